import type { DbOrTx } from '../client.js';

/**
 * Single-flight reads, per database handle and key: concurrent callers asking
 * the same question join the statement already on its way (a burst of cards
 * costs one read, not one each), and get an answer as fresh as that
 * statement's. Once it has answered, the next caller starts a new one.
 * `forget` after a write: callers from then on start a statement of their own.
 */
export function sharedReads<T>() {
  const inFlight = new WeakMap<object, Map<string, Promise<T>>>();
  return {
    read(db: DbOrTx, key: string, run: () => Promise<T>): Promise<T> {
      let perDb = inFlight.get(db);
      if (!perDb) inFlight.set(db, (perDb = new Map()));
      const running = perDb.get(key);
      if (running) return running;
      const query = run().finally(() => {
        if (perDb.get(key) === query) perDb.delete(key);
      });
      perDb.set(key, query);
      return query;
    },
    /** Every key of this handle, or only `key`. */
    forget(db: DbOrTx, key?: string): void {
      if (key === undefined) inFlight.delete(db);
      else inFlight.get(db)?.delete(key);
    },
  };
}
