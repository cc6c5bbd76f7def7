import { Redis } from 'ioredis';
import { decisionsChannel } from './names.js';

export interface DecisionWatch {
  /** Resolves when a decision for the id is announced, or the waiter closes (never rejects). */
  announced: Promise<void>;
  /** Stops watching; call it however the wait ended. */
  cancel(): void;
}

export interface DecisionWaiter {
  /**
   * Starts watching for the id's decision. Resolves once the subscription is
   * live, so a decision announced after this resolves is not missed: read
   * the row after it, then wait.
   */
  watch(escalationId: string): Promise<DecisionWatch>;
  close(): Promise<void>;
}

/**
 * The HTTP long-poll's ear on the decision store's announcements (the
 * `<prefix>:decisions` channel, published after each decision commits): one
 * subscriber connection for every waiting request, not one per request. A
 * hint only: the answer is always read back from Postgres.
 */
export function createDecisionWaiter(redisUrl: string, prefix: string): DecisionWaiter {
  const waiting = new Map<string, Set<() => void>>();
  let sub: Redis | undefined;
  let subscribed: Promise<unknown> | undefined;
  let closed = false;
  const listen = () => {
    if (subscribed) return subscribed;
    sub = new Redis(redisUrl, { maxRetriesPerRequest: null });
    sub.on('error', () => {});
    sub.on('message', (_channel: string, json: string) => {
      let id: unknown;
      try {
        id = (JSON.parse(json) as { escalationId?: unknown }).escalationId;
      } catch {
        return;
      }
      if (typeof id !== 'string') return;
      for (const wake of waiting.get(id) ?? []) wake();
    });
    subscribed = sub.subscribe(decisionsChannel(prefix)).catch((err: unknown) => {
      // The next request tries again.
      subscribed = undefined;
      sub?.disconnect();
      throw err;
    });
    return subscribed;
  };
  return {
    async watch(id) {
      // Stopping: every wait ends at once (answered as it stands), none starts.
      if (closed) return { announced: Promise.resolve(), cancel() {} };
      await listen();
      let wake!: () => void;
      const announced = new Promise<void>((resolve) => (wake = resolve));
      const set = waiting.get(id) ?? new Set();
      set.add(wake);
      waiting.set(id, set);
      return {
        announced,
        cancel() {
          set.delete(wake);
          if (set.size === 0 && waiting.get(id) === set) waiting.delete(id);
          wake();
        },
      };
    },
    async close() {
      closed = true;
      for (const set of waiting.values()) for (const wake of set) wake();
      waiting.clear();
      if (sub) await sub.quit().catch(() => sub?.disconnect());
    },
  };
}
