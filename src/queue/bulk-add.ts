import type { JobsOptions, Queue } from 'bullmq';

/** Jobs in one addBulk at most: one round trip, small enough not to stall Redis. */
const MAX_PER_BULK = 200;

interface Pending {
  name: string;
  data: unknown;
  opts: JobsOptions;
  resolve(): void;
  reject(err: unknown): void;
}

export interface BulkAdder {
  /** As queue.add: resolves once the job is in Redis (or was already, by its jobId). */
  add(name: string, data: unknown, opts: JobsOptions): Promise<void>;
}

/**
 * queue.add shared by concurrent callers: jobs added in one turn of the event
 * loop, or while an addBulk is on its way, go in the next addBulk (one round
 * trip for many under load; a lone job waits one turn). addBulk is not all or
 * nothing, so after an error each job of that batch is added on its own and
 * each caller gets its own answer (a deterministic jobId makes the repeat of
 * a job that did go in a no-op).
 */
export function bulkAdder(queue: Queue): BulkAdder {
  let pending: Pending[] = [];
  let inFlight = false;
  let scheduled = false;

  const addOne = (p: Pending) => queue.add(p.name, p.data, p.opts).then(() => p.resolve(), p.reject);

  const flush = (): void => {
    if (inFlight || pending.length === 0) return;
    const batch = pending.slice(0, MAX_PER_BULK);
    pending = pending.slice(batch.length);
    inFlight = true;
    const sent = batch.length === 1 ? addOne(batch[0]!) : queue.addBulk(batch.map(({ name, data, opts }) => ({ name, data, opts }))).then(
      () => batch.forEach((p) => p.resolve()),
      () => Promise.all(batch.map(addOne)),
    );
    void sent.finally(() => {
      inFlight = false;
      flush();
    });
  };

  return {
    add(name, data, opts) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ name, data, opts, resolve, reject });
        if (inFlight || scheduled) return;
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          flush();
        });
      });
    },
  };
}
