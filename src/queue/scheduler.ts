import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import type { SchedulerPort } from '../flow/ports.js';
import { ALERTS_QUEUE, CALLBACKS_QUEUE, CARD_JOB, DIGEST_JOB, DIGEST_REFRESH_JOB, HOME_JOB, callbackJobId, CHAINS_QUEUE, ESCALATIONS_QUEUE, EXPIRIES_QUEUE, NOTIFY_QUEUE, REVIEWS_QUEUE } from './names.js';
import { chainJobId } from '../domain/escalation-chain.js';
import { bulkAdder } from './bulk-add.js';
import { LATE_CLICK_JOB, lateClickJobId } from './late-click.js';

/** Completed internal jobs linger this long so a repeat add is still deduplicated (s). */
const KEEP_COMPLETED_SEC = 24 * 3600;
/** The set of an escalation's chain job ids outlives any chain (a chain is at most 10 rounds of ≤ 24 h steps) (s). */
const CHAIN_SET_TTL_SEC = 30 * 24 * 3600;
/**
 * How long a user's App Home refresh waits for more outcomes to share it (ms). Adds
 * meanwhile are deduplicated; one made while the refresh runs queues one more after it.
 */
export const HOME_REFRESH_MS = 1_000;
/** Job states a cancelled chain removes; completed and active jobs stay (they dedupe, or are running). */
const CANCELLABLE = new Set(['delayed', 'waiting', 'prioritized', 'waiting-children']);

export interface Scheduler extends SchedulerPort {
  queues: Queue[];
  close(): Promise<void>;
}

export function createScheduler(connection: ConnectionOptions, prefix: string): Scheduler {
  const common = { connection, prefix };
  const expiries = new Queue(EXPIRIES_QUEUE, common);
  const notify = new Queue(NOTIFY_QUEUE, common);
  const callbacks = new Queue(CALLBACKS_QUEUE, common);
  const alerts = new Queue(ALERTS_QUEUE, common);
  const reviews = new Queue(REVIEWS_QUEUE, common);
  const chains = new Queue(CHAINS_QUEUE, common);
  const escalations = new Queue(ESCALATIONS_QUEUE, common);
  const queues = [expiries, notify, callbacks, alerts, reviews, chains, escalations];
  // HTTP requests that wait for a person come in bursts too: their card jobs share round trips.
  const cardAdder = bulkAdder(escalations);
  // Every pending escalation sets a timer: a burst of cards shares one round trip.
  const expiryAdder = bulkAdder(expiries);
  const chainSet = (id: string) => `${prefix}:${CHAINS_QUEUE}:of:${id}`;
  // The Redis backend's client is an ioredis instance; its typed facade lacks set commands.
  const chainsRedis = async () => (await chains.getBackend().client) as unknown as Redis;
  const keep = { removeOnComplete: { age: KEEP_COMPLETED_SEC }, removeOnFail: { age: 7 * KEEP_COMPLETED_SEC } };
  const delay = (at: Date) => Math.max(0, at.getTime() - Date.now());
  return {
    queues,
    async scheduleExpiry(id, at) {
      // Deterministic jobId: a retried intake never schedules two timers.
      await expiryAdder.add('expire', { escalationId: id }, { ...keep, jobId: `expire-${id}`, delay: delay(at) });
    },
    async enqueueNotify(id, kind = 'decision', seq) {
      const jobId = kind === 'decision' ? `notify-${id}` : `notify-${id}-${kind}${seq === undefined ? '' : `-${seq}`}`;
      await notify.add(kind, { escalationId: id }, { ...keep, jobId, attempts: 20, backoff: { type: 'countersign' } });
    },
    async enqueueDigest(digestId) {
      await notify.add(DIGEST_JOB, { digestId }, { ...keep, jobId: `digest-${digestId}`, attempts: 20, backoff: { type: 'countersign' } });
    },
    async refreshDigest(digestId, window, at) {
      await notify.add(DIGEST_REFRESH_JOB, { digestId }, { ...keep, jobId: `digest-${digestId}-refresh-${window}`, delay: delay(at), attempts: 5, backoff: { type: 'countersign' } });
    },
    async enqueueLateClick(click, delayMs) {
      // Retried until Postgres answers (1 s doubling, capped at 10 min): the click must not be lost to an outage.
      await notify.add(LATE_CLICK_JOB, click, { ...keep, jobId: lateClickJobId(click), delay: delayMs, attempts: 50, backoff: { type: 'countersign' } });
    },
    async enqueueCard(id, channel) {
      // The escalation job's own retry-by-delay handles failures (workers.ts), so one attempt.
      await cardAdder.add(CARD_JOB, { escalationId: id, ...(channel ? { channel } : {}) }, { ...keep, jobId: id });
    },
    async enqueueCallback(id, _url, kind = 'decision') {
      // The URL is read from Postgres at delivery time: job data holds ids only.
      const jobId = callbackJobId(id, kind);
      await callbacks.add('callback', { escalationId: id }, { ...keep, jobId, attempts: 200, backoff: { type: 'countersign' } });
    },
    async refreshHomes(userIds) {
      if (userIds.length === 0) return;
      await notify.addBulk(
        userIds.map((userId) => ({
          name: HOME_JOB,
          data: { userId },
          opts: { delay: HOME_REFRESH_MS, deduplication: { id: `home-${userId}`, keepLastIfActive: true }, removeOnComplete: true, removeOnFail: { age: KEEP_COMPLETED_SEC }, attempts: 5, backoff: { type: 'countersign' } },
        })),
      );
    },
    async enqueueAlert(alert, dedupe) {
      const jobId = `alert-${createHash('sha256').update(dedupe).digest('hex').slice(0, 32)}`;
      await alerts.add(alert.kind, alert, { removeOnComplete: { age: 40 * 86_400 }, removeOnFail: { age: 7 * 86_400 }, jobId, attempts: 10, backoff: { type: 'countersign' } });
    },
    async scheduleReview(id, remindAt, escalateAt) {
      await reviews.addBulk([
        ...(remindAt ? [{ name: 'remind', data: { escalationId: id }, opts: { ...keep, jobId: `review-remind-${id}`, delay: delay(remindAt) } }] : []),
        { name: 'escalate', data: { escalationId: id }, opts: { ...keep, jobId: `review-escalate-${id}`, delay: delay(escalateAt) } },
      ]);
    },
    async scheduleChainStep(job, at) {
      // Remember the job under its escalation first, so a decision can always find it to cancel.
      const jobId = chainJobId(job);
      const redis = await chainsRedis();
      await redis.multi().sadd(chainSet(job.escalationId), jobId).expire(chainSet(job.escalationId), CHAIN_SET_TTL_SEC).exec();
      await chains.add(job.kind, job, { ...keep, jobId, delay: at ? delay(at) : 0, attempts: 10, backoff: { type: 'countersign' } });
    },
    async cancelChain(id) {
      const redis = await chainsRedis();
      const jobIds = await redis.smembers(chainSet(id));
      if (jobIds.length === 0) return 0;
      const states = await Promise.all(jobIds.map(async (jobId) => ({ jobId, state: await chains.getJobState(jobId) })));
      const removed = await Promise.all(states.map(({ jobId, state }) => (CANCELLABLE.has(state) ? chains.remove(jobId) : 0)));
      // An id whose job is not there yet (`unknown`: scheduleChainStep remembers the id before it adds the job)
      // stays in the set, so that the scheduler's own check after the add can still find and remove it.
      const done = states.filter((s) => s.state !== 'unknown').map((s) => s.jobId);
      if (done.length > 0) await redis.srem(chainSet(id), ...done);
      return removed.reduce((a, b) => a + b, 0);
    },
    async chainJobState(job) {
      return chains.getJobState(chainJobId(job));
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}
