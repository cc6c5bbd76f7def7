import { ShuttingDownError } from '../errors.js';

/** What /metrics shows of a process's jobs taken ahead: how many wait for their turn, and the longest wait (s). */
export interface IntakeAhead {
  waiting: number;
  oldestSeconds: number;
}

/**
 * At most `capacity` pieces of work at once; the rest wait in lanes, served
 * one at a time from each lane in turn. The escalation worker takes jobs from
 * BullMQ ahead of their turn (INTAKE_PREFETCH) and runs them through this
 * gate by channel, so a burst into one channel no longer holds up another
 * channel's cards for as long as the burst's intake takes: a job of a quiet
 * lane waits for at most one job of each busy lane.
 */
export class FairGate {
  #running = 0;
  /** Lanes with waiters, in turn order (a Map iterates in insertion order; a served lane goes to the back). */
  #lanes = new Map<string, Array<{ at: number; resolve(): void; reject(err: Error): void }>>();
  #closed = false;

  /** `now`: ms, for the age of the oldest waiter (Date.now by default). */
  constructor(
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  async run<T>(lane: string, fn: () => Promise<T>): Promise<T> {
    await this.#acquire(lane);
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  /** Work waiting for its turn (for metrics and tests). */
  get waiting(): number {
    let n = 0;
    for (const q of this.#lanes.values()) n += q.length;
    return n;
  }

  get running(): number {
    return this.#running;
  }

  /** How long the longest waiter has waited for its turn (ms); 0 when none waits. Each lane's first is its oldest. */
  oldestWaitMs(): number {
    let oldest: number | undefined;
    for (const q of this.#lanes.values()) if (q[0] && (oldest === undefined || q[0].at < oldest)) oldest = q[0].at;
    return oldest === undefined ? 0 : Math.max(0, this.now() - oldest);
  }

  /** Refuses waiting and new work with ShuttingDownError (work already running finishes): for shutdown. */
  close(): void {
    this.#closed = true;
    const waiters = [...this.#lanes.values()].flat();
    this.#lanes.clear();
    for (const w of waiters) w.reject(new ShuttingDownError());
  }

  #acquire(lane: string): Promise<void> {
    if (this.#closed) return Promise.reject(new ShuttingDownError());
    // A free slot with nobody waiting (release hands a slot straight to a waiter, so both never hold).
    if (this.#running < this.capacity) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = { at: this.now(), resolve, reject };
      const q = this.#lanes.get(lane);
      if (q) q.push(waiter);
      else this.#lanes.set(lane, [waiter]);
    });
  }

  #release(): void {
    const next = this.#lanes.entries().next();
    if (next.done) {
      this.#running--;
      return;
    }
    const [lane, q] = next.value;
    const w = q.shift()!;
    this.#lanes.delete(lane);
    if (q.length > 0) this.#lanes.set(lane, q);
    // The slot passes to the waiter as it is: #running stays the same.
    w.resolve();
  }
}
