import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import { CARD_MAX_FAILURES, callbackBackoffMs, cardRetryMs } from './backoff.js';
import { CALLBACKS_QUEUE, CARD_JOB, DIGEST_JOB, DIGEST_REFRESH_JOB, HOME_JOB, callbackKindOf, CHAINS_QUEUE, ESCALATIONS_QUEUE, EXPIRIES_QUEUE, MAINTENANCE_QUEUE, NOTIFY_QUEUE } from './names.js';
import { chainProcessor } from './chain-worker.js';
import { intake } from '../flow/intake.js';
import { cardPostFailed, postCard, postLostCard } from '../flow/post-card.js';
import { RateLimitedError, SlackCallError } from '../errors.js';
import { publishHome } from '../flow/home.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { getEscalation } from '../db/queries/escalations.js';
import { expire } from '../flow/expire.js';
import { notify } from '../flow/notify.js';
import { runDigest } from '../flow/channel-digest.js';
import { deliverCallback } from '../flow/callback.js';
import { sweep } from '../flow/sweep.js';
import { sealPending } from '../db/queries/audit-chain.js';
import { isAuditJob, runAuditJob, scheduleAuditJobs } from './audit-jobs.js';
import type { FlowPorts } from '../flow/ports.js';
import { answerOf } from '../flow/answer.js';
import { createHttpFetch } from '../slack/http-fetch.js';
import { callbackHosts } from '../domain/callback-hosts.js';
import { CallbackRefusedError, ShuttingDownError, StepHeldError } from '../errors.js';
import { channelLane, laneOf } from '../domain/routing.js';
import { FairGate, type IntakeAhead } from './fair-gate.js';
import { logConnectionErrors } from '../shutdown.js';
import { failureLogged, unscoped, type JobScope } from './job-scope.js';
import { LATE_CLICK_JOB, lateClickSchema, type LateClick } from './late-click.js';

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  /**
   * Escalation jobs taken from the queue ahead of their turn (INTAKE_PREFETCH): they wait in
   * memory, by channel, and `concurrency` of them run at once (fair-gate.ts). Default: `concurrency`.
   */
  intakePrefetch?: number;
  callbackSecret: string | undefined;
  /** Binds each job's ids to its log lines (src/queue/job-scope.ts); none by default. */
  scope?: JobScope;
  /**
   * Records a click acknowledged before its decision committed (src/queue/late-click.ts);
   * throws to be retried. The Slack side (decision-ack.ts) supplies it, wired in main.ts.
   */
  lateClick?: (click: LateClick) => Promise<void>;
}

/** Internal jobs carry ids only: Redis keeps job data in clear text. */
const idJob = z.object({ escalationId: z.uuid() });

function parseIdJob(job: Job): string {
  const parsed = idJob.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${job.queueName} job: escalationId must be a UUID`);
  return parsed.data.escalationId;
}

const digestJob = z.object({ digestId: z.uuid() });
const homeJob = z.object({ userId: z.string().min(1).max(64) });

/**
 * A card job's escalation as intake would return a repeat of it. Not `fresh`:
 * postCard then looks for a card only where an earlier try left its marker.
 */
async function recorded(ports: FlowPorts, id: string): Promise<{ kind: 'accepted'; row: EscalationRow; fresh: false }> {
  const row = await getEscalation(ports.db, id);
  if (!row) throw new UnrecoverableError(`${CARD_JOB} job: no escalation ${id}`);
  return { kind: 'accepted', row, fresh: false };
}

/** Re-queue a job for later without spending one of its attempts. */
async function later(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + Math.max(1, ms), token);
  throw new DelayedError();
}

/**
 * Real failures of this job so far: all of them (for the backoff), and those
 * of its card step (for giving up; an outage of Postgres before the escalation
 * is even read must not use them up). Kept in the job's progress: its data is
 * the agent's request, validated strictly.
 */
interface Failures {
  failures: number;
  cardFailures: number;
}

function failuresOf(job: Job): Failures {
  const p = job.progress as Partial<Record<keyof Failures, unknown>> | null;
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  return typeof p === 'object' && p !== null ? { failures: n(p.failures), cardFailures: n(p.cardFailures) } : { failures: 0, cardFailures: 0 };
}

/**
 * Escalation jobs come from agents with whatever `attempts` they chose
 * (BullMQ's default is 1), so transient failures are retried here, by delay,
 * never by failing the job: nothing an agent enqueued is lost to an outage.
 * Each kind of wait has its own delay: the pacer's turn, Slack's Retry-After,
 * and for a real failure a short backoff over real failures only (BullMQ's
 * attemptsStarted counts every wait too), so a card goes out within seconds
 * once Slack answers again. A card that cannot go out is given up loudly.
 */
function escalationProcessor(ports: FlowPorts, gate: FairGate) {
  const step = escalationStep(ports);
  return async (job: Job, token?: string) => {
    // An API card names its channel (the sweep's re-enqueued ones do not, and share one lane).
    const lane = job.name === CARD_JOB ? cardLane(job.data) : laneOf(ports.config.current().config, job.data);
    try {
      return await gate.run(lane, () => step(job, token));
    } catch (err) {
      // Taken ahead of its turn as the process stops: back to the queue, unstarted, for the next process.
      if (err instanceof ShuttingDownError) return later(job, token, 1);
      throw err;
    }
  };
}

const cardLane = (data: unknown): string => {
  const channel = typeof data === 'object' && data !== null ? (data as { channel?: unknown }).channel : undefined;
  return typeof channel === 'string' ? channelLane(channel) : 'api-cards';
};

/** One escalation job's intake and card, once its turn has come. */
function escalationStep(ports: FlowPorts) {
  return async (job: Job, token?: string) => {
    let row: EscalationRow | undefined;
    try {
      // The card of an escalation `POST /api/authorize` already recorded: the same card step, without intake.
      const result = job.name === CARD_JOB ? await recorded(ports, parseIdJob(job)) : await intake(ports, job.data, job.id);
      if (result.kind === 'rejected') throw new UnrecoverableError(`Invalid escalation: ${result.message}`);
      row = result.row;
      if (result.row.status === 'pending') {
        const posted = await postCard(ports, result.row, { fresh: result.fresh });
        if (posted.kind === 'wait') return await later(job, token, posted.ms);
      } else if (result.row.reviewState === 'pending' && result.row.cardState !== 'posted') {
        // The review card must not delay the agent's "allow": it goes out on its own job.
        await ports.scheduler.enqueueNotify(result.row.id);
      }
      return answerOf(result.row, result.fresh ? undefined : 'duplicate');
    } catch (err) {
      if (err instanceof UnrecoverableError || err instanceof DelayedError) throw err;
      // Slack's own wait (a 429 while looking for a crashed post's card): not a failure.
      if (err instanceof RateLimitedError) return later(job, token, err.retryAfterMs);
      // The failure came from the card step (the escalation was read, and waits for its card).
      const carding = row?.status === 'pending' ? row : undefined;
      const before = failuresOf(job);
      const count: Failures = { failures: before.failures + 1, cardFailures: before.cardFailures + (carding ? 1 : 0) };
      const giveUp = count.cardFailures >= CARD_MAX_FAILURES || (err instanceof SlackCallError && err.permanent);
      try {
        if (carding && giveUp) {
          await cardPostFailed(ports, carding, err instanceof SlackCallError ? err.slackError : err instanceof Error ? err.message : String(err), count.cardFailures);
          ports.log.error({ err, jobId: job.id, ...count }, 'card not posted: given up');
          return answerOf(carding);
        }
        await job.updateProgress({ ...count });
      } catch (inner) {
        // Redis or Postgres is down too: retry the whole step later, nothing recorded twice but the count.
        ports.log.warn({ err: inner, jobId: job.id }, 'cannot record the card failure');
      }
      const ms = cardRetryMs(count.failures);
      ports.log.warn({ err, jobId: job.id, ...count, retryInMs: ms }, 'escalation step failed; retrying');
      return later(job, token, ms);
    }
  };
}

/**
 * The maintenance queue's job schedulers. They live in Redis only: an emptied
 * Redis loses them, and the Redis reset watch (src/queue/redis-reset.ts) calls
 * this again. Upserting is idempotent, and shared by every replica.
 */
export async function scheduleMaintenance(maintenance: Queue): Promise<void> {
  // Each is tried even if another fails; the first failure is reported.
  await Promise.all([
    // Every minute: re-enqueue lost notifications and expiries (an outbox sweep).
    maintenance.upsertJobScheduler('sweep', { every: 60_000 }, { name: 'sweep', opts: { removeOnComplete: 100, removeOnFail: 100 } }),
    // Every second: seal new events into the audit hash chain, in small batches, off the hot path.
    maintenance.upsertJobScheduler('seal', { every: 1_000 }, { name: 'seal', opts: { removeOnComplete: 10, removeOnFail: 100 } }),
    // Anchoring the chain head in Slack, and retention (both read the config at each run).
    scheduleAuditJobs(maintenance),
  ]);
}

export function startWorkers(
  ports: FlowPorts,
  opts: WorkerOptions,
): {
  workers: Worker[];
  maintenance: Queue;
  schedule(): Promise<void>;
  /** Escalation jobs taken ahead of their turn, waiting (for /metrics). */
  intakeAhead(): IntakeAhead;
  close(force?: boolean): Promise<void>;
} {
  const base = {
    connection: opts.connection,
    prefix: opts.prefix,
    lockDuration: opts.lockDurationMs,
    stalledInterval: Math.max(1000, Math.floor(opts.lockDurationMs / 2)),
    // A crash mid-job leaves it stalled; allow several restarts before giving up.
    maxStalledCount: 10,
    settings: { backoffStrategy: (attemptsMade: number) => callbackBackoffMs(attemptsMade) },
  };
  // Only the status matters; a body beyond 64 KiB is dropped unread. Every address a
  // callback's host resolves to is judged on connecting, by the config in force.
  const guard = (address: string, hostname: string) => {
    const refused = callbackHosts(ports.config.current().config.callbacks.allowedHosts).refuseAddress(address, hostname);
    return refused ? new CallbackRefusedError(refused) : undefined;
  };
  const scope = opts.scope ?? unscoped;
  const scoped =
    <T>(fn: (job: Job, token?: string) => Promise<T>) =>
    (job: Job, token?: string) =>
      scope(job, token, fn);
  const callbackFetch = createHttpFetch({ maxSockets: 100, maxBodyBytes: 64 * 1024, guard }) as unknown as typeof fetch;
  const gate = new FairGate(opts.concurrency);
  const workers = [
    new Worker(ESCALATIONS_QUEUE, scoped(escalationProcessor(ports, gate)), { ...base, concurrency: Math.max(opts.concurrency, opts.intakePrefetch ?? opts.concurrency) }),
    new Worker(EXPIRIES_QUEUE, scoped(async (job) => ({ expired: await expire(ports, parseIdJob(job)) })), { ...base, concurrency: 10 }),
    new Worker(CHAINS_QUEUE, scoped(chainProcessor(ports)), { ...base, concurrency: 10 }),
    new Worker(
      NOTIFY_QUEUE,
      scoped(async (job, token) => {
        if (job.name === LATE_CLICK_JOB) {
          const click = lateClickSchema.safeParse(job.data);
          if (!click.success) throw new UnrecoverableError(`invalid ${LATE_CLICK_JOB} job: ${click.error.issues.map((i) => i.path.join('.')).join(', ')}`);
          if (!opts.lateClick) throw new UnrecoverableError(`${LATE_CLICK_JOB} job: this process does not record clicks`);
          await opts.lateClick(click.data);
          return 'recorded';
        }
        // A channel digest (src/flow/channel-digest.ts): runs again, delayed, while it is open.
        // Its refresh after a decision runs once (waiting only for the pace): the digest's own job keeps the timer.
        if (job.name === DIGEST_JOB || job.name === DIGEST_REFRESH_JOB) {
          const parsed = digestJob.safeParse(job.data);
          if (!parsed.success) throw new UnrecoverableError(`invalid ${job.name} job: digestId must be a UUID`);
          const r = await runDigest(ports, parsed.data.digestId, { refresh: job.name === DIGEST_REFRESH_JOB });
          if (r.kind === 'wait') return later(job, token, r.ms);
          return r.kind;
        }
        // A user's App Home, published again after outcomes (close-loop.ts), coalesced per user.
        if (job.name === HOME_JOB) {
          const parsed = homeJob.safeParse(job.data);
          if (!parsed.success) throw new UnrecoverableError(`invalid ${HOME_JOB} job: userId must be a Slack user id`);
          try {
            await publishHome(ports, parsed.data.userId);
          } catch (err) {
            if (err instanceof RateLimitedError) return later(job, token, err.retryAfterMs);
            throw err;
          }
          return 'published';
        }
        // A card whose escalation job Redis lost (src/flow/rebuild.ts): posted from its row.
        if (job.name === 'post') {
          const posted = await postLostCard(ports, parseIdJob(job));
          if (posted.kind === 'wait') return later(job, token, posted.ms);
          return posted.kind;
        }
        const r = await notify(ports, parseIdJob(job), job.name === 'review' || job.name === 'card' || job.name === 'votes' ? job.name : 'decision');
        if (r.kind === 'wait') return later(job, token, r.ms);
        return r.kind;
      }),
      { ...base, concurrency: opts.concurrency },
    ),
    new Worker(
      CALLBACKS_QUEUE,
      scoped(async (job, token) => {
        const id = parseIdJob(job);
        try {
          const result = await deliverCallback({ ...ports, secret: opts.callbackSecret, fetch: callbackFetch }, id, job.attemptsMade + 1, callbackKindOf(job.id));
          ports.metrics?.callback(result);
          return result;
        } catch (err) {
          // Another run of this job is delivering it: wait for it without spending an attempt.
          if (err instanceof StepHeldError) return later(job, token, err.retryInMs);
          ports.metrics?.callback('failed');
          throw err;
        }
      }),
      { ...base, concurrency: opts.concurrency },
    ),
    new Worker(
      MAINTENANCE_QUEUE,
      async (job) => (job.name === 'seal' ? { sealed: await sealPending(ports.db) } : isAuditJob(job.name) ? runAuditJob(ports, job.name) : sweep(ports)),
      { ...base, concurrency: 1 },
    ),
  ];
  for (const w of workers) {
    w.on('failed', (job, err) => {
      // A processor's failure was logged in its scope, with its ids; this is for the rest (a job stalled too often).
      if (failureLogged(err)) return;
      ports.log.warn({ queue: w.name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message }, 'job failed');
    });
    w.on('error', (err) => ports.log.error({ queue: w.name, err: err.message }, 'worker error'));
  }
  const maintenance = new Queue(MAINTENANCE_QUEUE, { connection: opts.connection, prefix: opts.prefix });
  logConnectionErrors(maintenance, `queue ${MAINTENANCE_QUEUE}`, ports.log);
  void scheduleMaintenance(maintenance).catch((err: Error) => ports.log.error({ err: err.message }, 'cannot schedule the maintenance jobs'));
  return {
    workers,
    maintenance,
    schedule: () => scheduleMaintenance(maintenance),
    intakeAhead: () => ({ waiting: gate.waiting, oldestSeconds: gate.oldestWaitMs() / 1000 }),
    async close(force = false) {
      // Worker.close() waits for in-flight jobs to finish; `force` does not (shutdown past its bound).
      // Jobs still waiting for their turn go back to the queue at once instead of being run first.
      gate.close();
      await Promise.all(workers.map((w) => w.close(force)));
      await maintenance.close();
    },
  };
}
