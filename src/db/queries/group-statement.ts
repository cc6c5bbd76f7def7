/**
 * Group statements: concurrent callers of one query share one statement, one
 * round trip and (for writes) one commit. No timer: a statement goes out at
 * once while fewer than MAX_IN_FLIGHT of its kind run, so a lone request waits
 * for nothing, and requests arriving meanwhile ride on the next one. Each
 * caller gets exactly what its own statement would have given it; a failed
 * group is retried one by one, so one bad request never fails the others.
 */
const MAX_IN_FLIGHT = 3;
const MAX_ITEMS = 200;

interface Item<I, R> {
  key: string;
  input: I;
  resolve(r: R): void;
  reject(err: unknown): void;
}

export interface GroupOptions<I, R> {
  /** The group statement: the answers by key; a key it leaves out gets `missing`. */
  runMany(inputs: I[]): Promise<Map<string, R>>;
  /** One request on its own: a lone request, and each request of a group that failed. */
  runOne(input: I): Promise<R>;
  /** Whether one statement may carry a key twice (reads may; a guarded write must not: the second waits). */
  repeatKeys: boolean;
  missing: R;
  /** Requests share a statement only with the same shape (e.g. the same set of columns). */
  shapeOf?: (input: I) => string;
  /** A lone request still goes through `runMany` (its statement is the prepared, faster one). */
  loneViaMany?: boolean;
  /** Statements of this group in flight at once (default MAX_IN_FLIGHT); 1 for writes to one row, which would only queue on its lock. */
  maxInFlight?: number;
}

export class GroupStatement<I, R> {
  #pending: Array<Item<I, R>> = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(private readonly opts: GroupOptions<I, R>) {}

  add(key: string, input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ key, input, resolve, reject });
      this.#schedule();
    });
  }

  /** Requests arriving in the same turn of the event loop share a statement even when idle. */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= (this.opts.maxInFlight ?? MAX_IN_FLIGHT) || this.#pending.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#inFlight >= (this.opts.maxInFlight ?? MAX_IN_FLIGHT) || this.#pending.length === 0) return;
    const { repeatKeys, shapeOf } = this.opts;
    const shape = shapeOf?.(this.#pending[0]!.input);
    const batch: Array<Item<I, R>> = [];
    const rest: Array<Item<I, R>> = [];
    const keys = new Set<string>();
    for (const item of this.#pending) {
      const fits = batch.length < MAX_ITEMS && (repeatKeys || !keys.has(item.key)) && (!shapeOf || shapeOf(item.input) === shape);
      if (fits) {
        batch.push(item);
        keys.add(item.key);
      } else rest.push(item);
    }
    this.#pending = rest;
    this.#inFlight++;
    void this.#run(batch).finally(() => {
      this.#inFlight--;
      this.#flush();
      this.#schedule();
    });
    this.#schedule();
  }

  async #run(batch: Array<Item<I, R>>): Promise<void> {
    const { runMany, runOne, missing, loneViaMany } = this.opts;
    if (batch.length === 1 && !loneViaMany) {
      const only = batch[0]!;
      return runOne(only.input).then(only.resolve, only.reject);
    }
    try {
      const byKey = await runMany(batch.map((b) => b.input));
      for (const b of batch) b.resolve(byKey.has(b.key) ? byKey.get(b.key)! : missing);
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      await Promise.all(batch.map((b) => runOne(b.input).then(b.resolve, b.reject)));
    }
  }
}
