import type { Redis } from 'ioredis';
import { turnBatcher } from './turn-batch.js';

/**
 * Per-agent facts the policy reads on every request, in one round trip:
 * whether the agent is paused (Postgres holds the truth; this is its cache)
 * and how often the current step has failed in a row (from outcome reports).
 */
export interface AgentFlags {
  /**
   * `modes`: the agent's stored modes as cached (`rev|json`), null when not
   * cached; `knownCapability`: this action type was already recorded for the agent.
   */
  read(
    agentId: string,
    executionId: string,
    step: string,
    actionType?: string,
  ): Promise<{ paused: string | null; stepFailures: number; taskMicros: number; modes: string | null; knownCapability: boolean }>;
  setPaused(agentId: string, reason: string | null): Promise<void>;
  recordStep(agentId: string, executionId: string, step: string, success: boolean): Promise<number>;
  /** Caches the agent's stored modes (Postgres is the truth); an older `rev` never overwrites a newer one. */
  cacheModes(agentId: string, rev: number, json: string): Promise<void>;
  markCapability(agentId: string, actionType: string): Promise<void>;
}

/** Reads sharing one MGET, at most. */
const MAX_READS_PER_MGET = 200;

/** Failure streaks are forgotten after a week without news (s). */
const STREAK_TTL_SEC = 7 * 86_400;

/** Cached modes are re-read from Postgres at least this often (s), whatever happens to Redis. */
const MODES_TTL_SEC = 3600;
const KEYS_PER_READ = 5;

/** SET `rev|json` unless the cached value has a revision at least as new. */
const CACHE_MODES = `local cur = redis.call('GET', KEYS[1])
if cur then
  local r = tonumber(string.match(cur, '^(%d+)|'))
  if r and r >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1`;

export function createAgentFlags(redis: Redis, prefix: string): AgentFlags {
  const paused = (a: string) => `${prefix}:paused:${a}`;
  const streak = (a: string, e: string, s: string) => `${prefix}:fails:${a}:${e}:${s}`;
  const task = (a: string, e: string) => `${prefix}:budget:task:${a}:${e}`;
  const modes = (a: string) => `${prefix}:modes:${a}`;
  const capability = (a: string, t: string) => `${prefix}:cap:${a}:${t}`;
  // Reads made in one turn, or while one MGET is on its way, share the next (turn-batch.ts).
  // Eager: intake reads flags first and then digests, routes and masks the request, so a
  // lone read's round trip overlaps that work instead of waiting for the end of the turn.
  const mgetN = turnBatcher<string[], Array<string | null>>(
    MAX_READS_PER_MGET,
    async (batch) => {
      const values = await redis.mget(batch.flatMap((w) => w.input));
      batch.forEach((w, i) => w.resolve(values.slice(KEYS_PER_READ * i, KEYS_PER_READ * (i + 1))));
    },
    { eager: true },
  );
  return {
    async read(agentId, executionId, step, actionType = step) {
      const [p, f, t, m, c] = await mgetN([paused(agentId), streak(agentId, executionId, step), task(agentId, executionId), modes(agentId), capability(agentId, actionType)]);
      return { paused: p ?? null, stepFailures: Number(f ?? 0), taskMicros: Number(t ?? 0), modes: m ?? null, knownCapability: c !== null && c !== undefined };
    },
    async cacheModes(agentId, rev, json) {
      await redis.eval(CACHE_MODES, 1, modes(agentId), String(rev), json, String(MODES_TTL_SEC));
    },
    async markCapability(agentId, actionType) {
      await redis.set(capability(agentId, actionType), '1');
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
