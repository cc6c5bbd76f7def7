import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { checkModes } from '../flow/promotion.js';
import type { FlowPorts } from '../flow/ports.js';
import { MODES_QUEUE } from './names.js';
import { logConnectionErrors } from '../shutdown.js';

/** How often promotion and demotion are checked (ms): a demotion by error rate lands within this. */
export const MODES_CHECK_EVERY_MS = 60_000;

/**
 * The review-mode check: a BullMQ job scheduler runs `check` every minute
 * (one at a time across replicas); a `check` job added by hand runs at once.
 */
export function startModesWorker(
  ports: FlowPorts,
  opts: { connection: ConnectionOptions; prefix: string; lockDurationMs: number },
): { schedule(): Promise<void>; close(force?: boolean): Promise<void> } {
  const worker = new Worker(
    MODES_QUEUE,
    async (job: Job) => {
      if (job.name !== 'check') throw new UnrecoverableError(`unknown modes job ${job.name}`);
      return checkModes(ports);
    },
    { connection: opts.connection, prefix: opts.prefix, lockDuration: opts.lockDurationMs, concurrency: 1 },
  );
  worker.on('failed', (job, err) => ports.log.warn({ queue: MODES_QUEUE, jobId: job?.id, err: err.message }, 'job failed'));
  worker.on('error', (err) => ports.log.error({ queue: MODES_QUEUE, err: err.message }, 'worker error'));
  const queue = new Queue(MODES_QUEUE, { connection: opts.connection, prefix: opts.prefix });
  logConnectionErrors(queue, `queue ${MODES_QUEUE}`, ports.log);
  // In Redis only: an emptied Redis loses it, and the reset watch calls `schedule` again (idempotent).
  const schedule = async () => {
    await queue.upsertJobScheduler('modes-check', { every: MODES_CHECK_EVERY_MS }, { name: 'check', opts: { removeOnComplete: 100, removeOnFail: 100 } });
  };
  void schedule().catch((err: Error) => ports.log.error({ err: err.message }, 'cannot schedule the review-mode check'));
  return {
    schedule,
    /** `force`: do not wait for a running check (shutdown past its bound). */
    async close(force = false) {
      await worker.close(force);
      await queue.close();
    },
  };
}
