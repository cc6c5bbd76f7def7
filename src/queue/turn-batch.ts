/** One caller's request in a batch; `run` settles it. */
export interface Waiting<I, R> {
  input: I;
  resolve(r: R): void;
  reject(err: unknown): void;
}

/**
 * Requests made in one turn of the event loop, or while the previous batch
 * is on its way, go out together in the next batch of at most `max`: one
 * Redis round trip for many under load, none added for a lone request but a
 * turn. `run` sends a batch and settles each request in it; if it throws,
 * every request it left unsettled is rejected with that error.
 */
export function turnBatcher<I, R>(max: number, run: (batch: Array<Waiting<I, R>>) => Promise<void>): (input: I) => Promise<R> {
  let pending: Array<Waiting<I, R>> = [];
  let inFlight = false;
  let scheduled = false;

  const flush = (): void => {
    if (inFlight || pending.length === 0) return;
    const batch = pending.slice(0, max);
    pending = pending.slice(batch.length);
    inFlight = true;
    // A promise settles once: rejecting those `run` already settled changes nothing.
    void run(batch)
      .catch((err: unknown) => batch.forEach((w) => w.reject(err)))
      .finally(() => {
        inFlight = false;
        flush();
      });
  };

  return (input) =>
    new Promise<R>((resolve, reject) => {
      pending.push({ input, resolve, reject });
      if (inFlight || scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        flush();
      });
    });
}
