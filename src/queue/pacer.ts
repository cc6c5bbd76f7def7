import type { Redis } from 'ioredis';
import type { PacerPort } from '../flow/ports.js';
import { turnBatcher } from './turn-batch.js';
import { withScripts } from './scripts.js';

/** Reserves answered by one Lua call at most. */
const MAX_PER_CALL = 200;

/**
 * GCRA (generic cell rate algorithm) in one round trip: the key holds the
 * theoretical arrival time in ms, by Redis's clock so replicas agree.
 * ARGV: interval ms per call, burst size. Returns 0 (go) or ms to wait.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allow_at = tat - (burst - 1) * interval
if now < allow_at then return math.ceil(allow_at - now) end
tat = tat + interval
redis.call('SET', KEYS[1], tat, 'PX', math.ceil(tat - now + interval * burst + 1000))
return 0
`;

/**
 * RESERVE for ARGV[3] callers at once, in arrival order, exactly as that many
 * RESERVE calls in a row at one instant: one round trip for a burst of cards.
 * Returns each caller's 0 (go) or ms to wait.
 */
const RESERVE_MANY = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local out = {}
local granted = false
for i = 1, n do
  local allow_at = tat - (burst - 1) * interval
  if now < allow_at then
    out[i] = math.ceil(allow_at - now)
  else
    tat = tat + interval
    out[i] = 0
    granted = true
  end
end
if granted then redis.call('SET', KEYS[1], tat, 'PX', math.ceil(tat - now + interval * burst + 1000)) end
return out
`;

/** Pushes the arrival time out so nobody calls before now + ARGV[1] ms. */
const BLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1]) + (tonumber(ARGV[2]) - 1) * tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > tat then redis.call('SET', KEYS[1], until_, 'PX', math.ceil(until_ - now + 1000)) end
return 0
`;

export interface PacerOptions {
  /** Calls per second per key (channel and method). */
  perSecond: number;
  burst: number;
  prefix: string;
}

interface PacerScripts {
  csReserve(key: string, interval: number, burst: number): Promise<number>;
  csReserveMany(key: string, interval: number, burst: number, count: number): Promise<number[]>;
  csBlock(key: string, ms: number, burst: number, interval: number): Promise<number>;
}

export function createPacer(redis: Redis, opts: () => PacerOptions): PacerPort {
  const r = withScripts<PacerScripts>(redis, {
    csReserve: { numberOfKeys: 1, lua: RESERVE },
    csReserveMany: { numberOfKeys: 1, lua: RESERVE_MANY },
    csBlock: { numberOfKeys: 1, lua: BLOCK },
  });
  const keyOf = (key: string) => `${opts().prefix}:pace:${key}`;
  // Reserves for one key made in one turn, or while that key's call is on its way, share one RESERVE_MANY (turn-batch.ts).
  const byKey = new Map<string, (input: undefined) => Promise<number>>();
  const batcherFor = (key: string) =>
    turnBatcher<undefined, number>(MAX_PER_CALL, async (batch) => {
      const { perSecond, burst } = opts();
      const waits = batch.length === 1 ? [await r.csReserve(keyOf(key), 1000 / perSecond, burst)] : await r.csReserveMany(keyOf(key), 1000 / perSecond, burst, batch.length);
      batch.forEach((w, i) => w.resolve(Number(waits[i] ?? 0)));
    });
  return {
    reserve(key) {
      let reserve = byKey.get(key);
      if (!reserve) byKey.set(key, (reserve = batcherFor(key)));
      return reserve(undefined);
    },
    async block(key, ms) {
      const { perSecond, burst } = opts();
      await r.csBlock(keyOf(key), Math.max(0, Math.ceil(ms)), burst, 1000 / perSecond);
    },
  };
}
