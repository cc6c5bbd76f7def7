import type { Redis } from 'ioredis';

/**
 * Per-agent facts the policy reads on every request, in one round trip:
 * whether the agent is paused (Postgres holds the truth; this is its cache)
 * and how often the current step has failed in a row (from outcome reports).
 */
export interface AgentFlags {
  read(agentId: string, executionId: string, step: string): Promise<{ paused: string | null; stepFailures: number; taskMicros: number }>;
  setPaused(agentId: string, reason: string | null): Promise<void>;
  recordStep(agentId: string, executionId: string, step: string, success: boolean): Promise<number>;
}

/** Reads sharing one MGET, at most. */
const MAX_READS_PER_MGET = 200;

/** Failure streaks are forgotten after a week without news (s). */
const STREAK_TTL_SEC = 7 * 86_400;

export function createAgentFlags(redis: Redis, prefix: string): AgentFlags {
  const paused = (a: string) => `${prefix}:paused:${a}`;
  const streak = (a: string, e: string, s: string) => `${prefix}:fails:${a}:${e}:${s}`;
  const task = (a: string, e: string) => `${prefix}:budget:task:${a}:${e}`;
  // Reads made while one MGET is on its way share the next: one command for many under load.
  let pending: Array<{ keys: [string, string, string]; resolve(v: Array<string | null>): void; reject(err: unknown): void }> = [];
  let inFlight = false;
  let scheduled = false;
  const flush = (): void => {
    if (inFlight || pending.length === 0) return;
    const batch = pending.slice(0, MAX_READS_PER_MGET);
    pending = pending.slice(batch.length);
    inFlight = true;
    redis
      .mget(batch.flatMap((b) => b.keys))
      .then(
        (values) => batch.forEach((b, i) => b.resolve(values.slice(3 * i, 3 * i + 3))),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      )
      .finally(() => {
        inFlight = false;
        flush();
      });
  };
  const mget3 = (keys: [string, string, string]) =>
    new Promise<Array<string | null>>((resolve, reject) => {
      pending.push({ keys, resolve, reject });
      if (inFlight || scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        flush();
      });
    });
  return {
    async read(agentId, executionId, step) {
      const [p, f, t] = await mget3([paused(agentId), streak(agentId, executionId, step), task(agentId, executionId)]);
      return { paused: p ?? null, stepFailures: Number(f ?? 0), taskMicros: Number(t ?? 0) };
    },
    async setPaused(agentId, reason) {
      if (reason === null) await redis.del(paused(agentId));
      else await redis.set(paused(agentId), reason);
    },
    async recordStep(agentId, executionId, step, success) {
      const key = streak(agentId, executionId, step);
      if (success) {
        await redis.del(key);
        return 0;
      }
      const [[, n]] = (await redis.multi().incr(key).expire(key, STREAK_TTL_SEC).exec()) as [[unknown, number]];
      return n;
    },
  };
}
