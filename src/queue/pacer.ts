import type { Redis } from 'ioredis';
import type { PacerPort } from '../flow/ports.js';

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
if now < allow_at then return allow_at - now end
tat = tat + interval
redis.call('SET', KEYS[1], tat, 'PX', math.ceil(tat - now + interval * burst + 1000))
return 0
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

type PacedRedis = Redis & {
  csReserve(key: string, interval: number, burst: number): Promise<number>;
  csBlock(key: string, ms: number, burst: number, interval: number): Promise<number>;
};

export function createPacer(redis: Redis, opts: () => PacerOptions): PacerPort {
  const r = redis as PacedRedis;
  if (typeof (redis as unknown as Partial<PacedRedis>).csReserve !== 'function') {
    r.defineCommand('csReserve', { numberOfKeys: 1, lua: RESERVE });
    r.defineCommand('csBlock', { numberOfKeys: 1, lua: BLOCK });
  }
  const keyOf = (key: string) => `${opts().prefix}:pace:${key}`;
  return {
    async reserve(key) {
      const { perSecond, burst } = opts();
      return Number(await r.csReserve(keyOf(key), 1000 / perSecond, burst));
    },
    async block(key, ms) {
      const { perSecond, burst } = opts();
      await r.csBlock(keyOf(key), Math.max(0, Math.ceil(ms)), burst, 1000 / perSecond);
    },
  };
}
