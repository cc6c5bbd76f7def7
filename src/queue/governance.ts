import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { governanceJobSchema, type GovernanceJob } from '../domain/batch-review.js';
import type { CountersignConfig } from '../domain/config.js';
import type { FlowPorts, GovernancePort } from '../flow/ports.js';
import { postSampleCards, refreshItemCard, refreshProgress } from '../flow/batch-review.js';
import { runExceptionOnlyReview, runWeeklyReview } from '../flow/weekly-review.js';
import { postMonthlyReport } from '../flow/governance-report.js';
import { callbackBackoffMs } from './backoff.js';
import { GOVERNANCE_QUEUE } from './names.js';
import { describeErrors, fieldErrors } from '../domain/validation.js';

/** Completed jobs linger so a repeat add with the same id is still deduplicated (s). */
const KEEP_COMPLETED_SEC = 24 * 3600;
/** Scheduler ids this module owns; others on the queue are left alone. */
export const WEEKLY_PREFIX = 'weekly-review:';
export const MONTHLY_ID = 'monthly-report';
/** Mondays 09:00 in the policy's time zone: the weekly sample that comes with exception-only mode. */
export const EXCEPTION_ONLY_ID = 'exception-only-review';
const EXCEPTION_ONLY_CRON = '0 9 * * MON';

export const weeklySchedulerId = (channel: string) => `${WEEKLY_PREFIX}${channel}`;

function jobIdOf(job: GovernanceJob): string {
  switch (job.kind) {
    case 'post':
      return `sample-post-${job.sampleId}`;
    case 'card':
      return `sample-card-${job.sampleId}-${job.escalationId}`;
    case 'progress':
      return `sample-progress-${job.sampleId}-${job.reviewed}`;
    case 'weekly':
      return `weekly-now-${job.channel}-${Date.now()}`;
    case 'monthly':
      return `monthly-now-${Date.now()}`;
    case 'exception_only':
      return `exception-only-now-${Date.now()}`;
  }
}

export interface GovernanceQueue extends GovernancePort {
  queue: Queue;
  /** Makes the job schedulers match the config: upserts the configured ones, removes those that left it. */
  sync(config: CountersignConfig): Promise<{ upserted: string[]; removed: string[] }>;
  close(): Promise<void>;
}

export function createGovernanceQueue(connection: ConnectionOptions, prefix: string): GovernanceQueue {
  const queue = new Queue(GOVERNANCE_QUEUE, { connection, prefix });
  const keep = { removeOnComplete: { age: KEEP_COMPLETED_SEC }, removeOnFail: { age: 7 * KEEP_COMPLETED_SEC } };
  return {
    queue,
    async enqueue(job) {
      await queue.add(job.kind, job, { ...keep, jobId: jobIdOf(job), attempts: 20, backoff: { type: 'countersign' } });
    },
    async sync(config) {
      const wanted = new Map<string, { pattern: string; tz: string; job: GovernanceJob }>();
      for (const w of config.reviews?.weekly ?? []) {
        wanted.set(weeklySchedulerId(w.channel), {
          pattern: w.cron,
          tz: w.tz,
          job: { kind: 'weekly', channel: w.channel, agents: w.agents, percent: w.percent, days: w.days },
        });
      }
      const monthly = config.reports?.monthly;
      if (monthly) wanted.set(MONTHLY_ID, { pattern: monthly.cron, tz: monthly.tz, job: { kind: 'monthly' } });
      // Which agents are exception-only is read at each run (a person may promote one any day).
      if (config.policy) wanted.set(EXCEPTION_ONLY_ID, { pattern: EXCEPTION_ONLY_CRON, tz: config.policy.timezone, job: { kind: 'exception_only' } });
      const removed: string[] = [];
      for (const s of await queue.getJobSchedulers(0, -1)) {
        const id = s.key;
        if ((id.startsWith(WEEKLY_PREFIX) || id === MONTHLY_ID || id === EXCEPTION_ONLY_ID) && !wanted.has(id)) {
          await queue.removeJobScheduler(id);
          removed.push(id);
        }
      }
      for (const [id, w] of wanted) {
        await queue.upsertJobScheduler(id, { pattern: w.pattern, tz: w.tz }, {
          name: w.job.kind,
          data: w.job,
          opts: { removeOnComplete: 50, removeOnFail: 100, attempts: 10, backoff: { type: 'countersign' } },
        });
      }
      return { upserted: [...wanted.keys()], removed };
    },
    close: () => queue.close(),
  };
}

/** Re-queue a job for later without spending one of its attempts. */
async function later(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + Math.max(1, ms), token);
  throw new DelayedError();
}

/** Runs one governance job; exported so a test can run a scheduler's job data directly. */
export async function runGovernanceJob(ports: FlowPorts, data: unknown, runKey: string, at: Date): Promise<{ kind: string; ms?: number }> {
  const parsed = governanceJobSchema.safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`invalid governance job: ${describeErrors(fieldErrors(parsed.error))}`);
  const job = parsed.data;
  switch (job.kind) {
    case 'post':
      return postSampleCards(ports, job.sampleId);
    case 'card':
      return refreshItemCard(ports, job.sampleId, job.escalationId);
    case 'progress':
      return refreshProgress(ports, job.sampleId);
    case 'weekly':
      return runWeeklyReview(ports, job, runKey, at);
    case 'exception_only':
      return runExceptionOnlyReview(ports, runKey, at);
    case 'monthly':
      return postMonthlyReport(ports, at, job.month);
  }
}

export function startGovernanceWorker(
  ports: FlowPorts,
  opts: { connection: ConnectionOptions; prefix: string; lockDurationMs: number },
): { worker: Worker; close(force?: boolean): Promise<void> } {
  const worker = new Worker(
    GOVERNANCE_QUEUE,
    async (job: Job, token?: string) => {
      // A scheduler's run is named by its job id (`repeat:<scheduler>:<millis>`), so a retry is the same run.
      const r = await runGovernanceJob(ports, job.data, String(job.id), new Date(job.timestamp + (job.opts.delay ?? 0)));
      if (r.kind === 'wait') return later(job, token, r.ms ?? 1000);
      return r.kind;
    },
    {
      connection: opts.connection,
      prefix: opts.prefix,
      lockDuration: opts.lockDurationMs,
      maxStalledCount: 10,
      concurrency: 5,
      settings: { backoffStrategy: (n: number) => callbackBackoffMs(n) },
    },
  );
  worker.on('failed', (job, err) => ports.log.warn({ queue: GOVERNANCE_QUEUE, jobId: job?.id, err: err.message }, 'job failed'));
  worker.on('error', (err) => ports.log.error({ queue: GOVERNANCE_QUEUE, err: err.message }, 'worker error'));
  // `force`: do not wait for a running job (shutdown past its bound).
  return { worker, close: (force = false) => worker.close(force) };
}
