import { Queue, type ConnectionOptions } from 'bullmq';
import type { SchedulerPort } from '../flow/ports.js';
import { CALLBACKS_QUEUE, EXPIRIES_QUEUE, NOTIFY_QUEUE } from './names.js';

/** Completed internal jobs linger this long so a repeat add is still deduplicated (s). */
const KEEP_COMPLETED_SEC = 24 * 3600;

export interface Scheduler extends SchedulerPort {
  queues: Queue[];
  close(): Promise<void>;
}

export function createScheduler(connection: ConnectionOptions, prefix: string): Scheduler {
  const common = { connection, prefix };
  const expiries = new Queue(EXPIRIES_QUEUE, common);
  const notify = new Queue(NOTIFY_QUEUE, common);
  const callbacks = new Queue(CALLBACKS_QUEUE, common);
  const keep = { removeOnComplete: { age: KEEP_COMPLETED_SEC }, removeOnFail: { age: 7 * KEEP_COMPLETED_SEC } };
  return {
    queues: [expiries, notify, callbacks],
    async scheduleExpiry(id, at) {
      // Deterministic jobId: a retried intake never schedules two timers.
      await expiries.add('expire', { escalationId: id }, { ...keep, jobId: `expire-${id}`, delay: Math.max(0, at.getTime() - Date.now()) });
    },
    async enqueueNotify(id) {
      await notify.add('notify', { escalationId: id }, { ...keep, jobId: `notify-${id}`, attempts: 20, backoff: { type: 'countersign' } });
    },
    async enqueueCallback(id, _url) {
      // The URL is read from Postgres at delivery time: job data holds ids only.
      await callbacks.add('callback', { escalationId: id }, { ...keep, jobId: `callback-${id}`, attempts: 200, backoff: { type: 'countersign' } });
    },
    async close() {
      await Promise.all([expiries.close(), notify.close(), callbacks.close()]);
    },
  };
}
