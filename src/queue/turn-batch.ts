/** One caller's request in a batch; `run` settles it. */
export interface Waiting<I, R> {
  input: I;
  resolve(r: R): void;
  reject(err: unknown): void;
}

export interface TurnBatchOptions {
  /**
   * Default false. True: a request made while nothing is pending or on its way
   * goes out at once, alone, instead of at the end of the turn, and the rest of
   * that turn's requests go out at the end of it as a second batch (two at most
   * on their way). For reads whose caller has other work to do before it
   * awaits: the round trip then overlaps that work instead of following it.
   * Not for writes whose order matters: two batches may be on their way at once.
   */
  eager?: boolean;
}

/**
 * Requests made in one turn of the event loop, or while the previous batch
 * is on its way, go out together in the next batch of at most `max`: one
 * Redis round trip for many under load, none added for a lone request but a
 * turn (none at all with `eager`). `run` sends a batch and settles each
 * request in it; if it throws, every request it left unsettled is rejected
 * with that error.
 */
export function turnBatcher<I, R>(max: number, run: (batch: Array<Waiting<I, R>>) => Promise<void>, opts: TurnBatchOptions = {}): (input: I) => Promise<R> {
  const maxInFlight = opts.eager ? 2 : 1;
  let pending: Array<Waiting<I, R>> = [];
  let inFlight = 0;
  let scheduled = false;

  const flush = (): void => {
    if (inFlight >= maxInFlight || pending.length === 0) return;
    const batch = pending.slice(0, max);
    pending = pending.slice(batch.length);
    inFlight++;
    // A promise settles once: rejecting those `run` already settled changes nothing.
    void run(batch)
      .catch((err: unknown) => batch.forEach((w) => w.reject(err)))
      .finally(() => {
        inFlight--;
        flush();
      });
  };

  return (input) =>
    new Promise<R>((resolve, reject) => {
      pending.push({ input, resolve, reject });
      if (opts.eager && inFlight === 0 && pending.length === 1 && !scheduled) return flush();
      if (inFlight >= maxInFlight || scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        flush();
      });
    });
}
