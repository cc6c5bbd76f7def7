import type { JobsOptions, Queue } from 'bullmq';
import { turnBatcher } from './turn-batch.js';

/** Jobs in one addBulk at most: one round trip, small enough not to stall Redis. */
const MAX_PER_BULK = 200;

interface Job {
  name: string;
  data: unknown;
  opts: JobsOptions;
}

export interface BulkAdder {
  /** As queue.add: resolves once the job is in Redis (or was already, by its jobId). */
  add(name: string, data: unknown, opts: JobsOptions): Promise<void>;
}

/**
 * queue.add shared by concurrent callers (turn-batch.ts): one addBulk for a
 * burst. addBulk is not all or nothing, so after an error each job of that
 * batch is added on its own and each caller gets its own answer (a
 * deterministic jobId makes the repeat of a job that did go in a no-op).
 */
export function bulkAdder(queue: Queue): BulkAdder {
  const add = turnBatcher<Job, void>(MAX_PER_BULK, async (batch) => {
    const addOne = (w: (typeof batch)[number]) => queue.add(w.input.name, w.input.data, w.input.opts).then(() => w.resolve(), w.reject);
    if (batch.length === 1) return void (await addOne(batch[0]!));
    try {
      await queue.addBulk(batch.map((w) => w.input));
      batch.forEach((w) => w.resolve());
    } catch {
      await Promise.all(batch.map(addOne));
    }
  });
  return { add: (name, data, opts) => add({ name, data, opts }) };
}
