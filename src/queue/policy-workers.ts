import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import { postAlert } from '../flow/alert.js';
import { reportOutcome } from '../flow/outcome.js';
import { reviewTimer } from '../flow/review-timers.js';
import { syncPauseFlags } from '../flow/pause.js';
import { rebuildBudgets } from '../flow/budget-rebuild.js';
import type { FlowPorts } from '../flow/ports.js';
import { callbackBackoffMs } from './backoff.js';
import { ALERTS_QUEUE, OUTCOMES_QUEUE, REVIEWS_QUEUE } from './names.js';
import { startModesWorker } from './modes-worker.js';
import { failureLogged, unscoped, type JobScope } from './job-scope.js';

export interface PolicyWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  /** Binds each job's ids to its log lines (src/queue/job-scope.ts); none by default. */
  scope?: JobScope;
}

const idJob = z.object({ escalationId: z.uuid() });

/** Workers for what policy adds: agents' outcome reports, Slack alerts, supervised-review timers. */
export async function startPolicyWorkers(ports: FlowPorts, opts: PolicyWorkerOptions): Promise<{ schedule(): Promise<void>; close(force?: boolean): Promise<void> }> {
  await syncPauseFlags(ports);
  await rebuildBudgets(ports);
  const base = {
    connection: opts.connection,
    prefix: opts.prefix,
    lockDuration: opts.lockDurationMs,
    maxStalledCount: 10,
    settings: { backoffStrategy: (n: number) => callbackBackoffMs(n) },
  };
  const scope = opts.scope ?? unscoped;
  const scoped =
    <T>(fn: (job: Job) => Promise<T>) =>
    (job: Job, token?: string) =>
      scope(job, token, fn);
  const workers = [
    new Worker(
      OUTCOMES_QUEUE,
      scoped(async (job: Job) => {
        const r = await reportOutcome(ports, job.data);
        if (r.kind === 'rejected') throw new UnrecoverableError(`Invalid outcome report: ${r.message}`);
        return r;
      }),
      { ...base, concurrency: opts.concurrency },
    ),
    new Worker(ALERTS_QUEUE, scoped(async (job: Job) => postAlert(ports, job.data)), { ...base, concurrency: 5 }),
    new Worker(
      REVIEWS_QUEUE,
      scoped(async (job: Job) => {
        const parsed = idJob.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError('invalid reviews job: escalationId must be a UUID');
        return reviewTimer(ports, parsed.data.escalationId, job.name === 'escalate' ? 'escalate' : 'remind');
      }),
      { ...base, concurrency: 5 },
    ),
  ];
  for (const w of workers) {
    w.on('failed', (job, err) => failureLogged(err) || ports.log.warn({ queue: w.name, jobId: job?.id, err: err.message }, 'job failed'));
    w.on('error', (err) => ports.log.error({ queue: w.name, err: err.message }, 'worker error'));
  }
  const modes = startModesWorker(ports, opts);
  // `force`: do not wait for running jobs (shutdown past its bound).
  return { schedule: () => modes.schedule(), close: async (force = false) => void (await Promise.all([...workers.map((w) => w.close(force)), modes.close(force)])) };
}
