import type { Redis } from 'ioredis';
import type { BudgetWindow } from '../domain/budget.js';
import { withScripts } from './scripts.js';

/**
 * Budget counters in Redis, in micro-dollars, changed only by Lua scripts so
 * that a check and its increment are one atomic step: 200 concurrent
 * requests against a nearly spent cap can never overspend it. Postgres keeps
 * the ledger these counters are rebuilt from.
 */

/**
 * KEYS: marker, then one counter per window. ARGV: amount, marker TTL, then
 * per window: cap (-1 = none, or not enforced here), TTL.
 * Returns {1, totals…} reserved; {2, totals…} already reserved under this
 * marker (a retried job); {0, window index, current} refused.
 */
const RESERVE = `
local amount = tonumber(ARGV[1])
local n = #KEYS - 1
if redis.call('EXISTS', KEYS[1]) == 1 then
  local out = {2}
  for i = 1, n do out[i + 1] = tonumber(redis.call('GET', KEYS[i + 1]) or '0') end
  return out
end
for i = 1, n do
  local cap = tonumber(ARGV[1 + 2 * i])
  local cur = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
  if cap >= 0 and cur + amount > cap then return {0, i, cur} end
end
local out = {1}
for i = 1, n do
  out[i + 1] = redis.call('INCRBY', KEYS[i + 1], amount)
  redis.call('EXPIRE', KEYS[i + 1], tonumber(ARGV[2 + 2 * i]))
end
redis.call('SET', KEYS[1], '1', 'EX', tonumber(ARGV[2]))
return out
`;

interface BudgetScripts {
  csBudgetReserve(...args: (string | number)[]): Promise<number[]>;
}

export type ReserveResult =
  | { ok: true; replay: boolean; totals: number[] }
  | { ok: false; window: BudgetWindow; currentMicros: number };

export interface BudgetStore {
  /**
   * Atomically add `amountMicros` to every window unless a window in
   * `enforce` would pass its cap. Idempotent per `marker` (an escalation id).
   */
  reserve(marker: string, windows: BudgetWindow[], amountMicros: number, enforce: ReadonlySet<string>): Promise<ReserveResult>;
  /** Current totals, micro-dollars, in window order. */
  totals(windows: BudgetWindow[]): Promise<number[]>;
  /** Seed a counter from the ledger if Redis lost it (restart without persistence). */
  seed(window: BudgetWindow, micros: number): Promise<void>;
}

/** Markers outlive any job retry (s). */
const MARKER_TTL_SEC = 7 * 86_400;

export function createBudgetStore(redis: Redis, prefix: string): BudgetStore {
  const r = withScripts<BudgetScripts>(redis, { csBudgetReserve: { lua: RESERVE } });
  const key = (w: BudgetWindow) => `${prefix}:budget:${w.key}`;
  return {
    async reserve(marker, windows, amountMicros, enforce) {
      const args: (string | number)[] = [windows.length + 1, `${prefix}:budget:reserved:${marker}`, ...windows.map(key), amountMicros, MARKER_TTL_SEC];
      for (const w of windows) args.push(enforce.has(w.kind) && w.capMicros !== undefined ? w.capMicros : -1, w.ttlSec);
      const res = (await r.csBudgetReserve(...args)).map(Number);
      if (res[0] === 0) return { ok: false, window: windows[res[1]! - 1]!, currentMicros: res[2]! };
      return { ok: true, replay: res[0] === 2, totals: res.slice(1) };
    },
    async totals(windows) {
      const values = await redis.mget(...windows.map(key));
      return values.map((v) => Number(v ?? 0));
    },
    async seed(window, micros) {
      await redis.set(key(window), micros, 'EX', window.ttlSec, 'NX');
    },
  };
}
