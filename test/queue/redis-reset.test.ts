import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sentinelKey, watchRedisReset, type RedisResetWatch } from '../../src/queue/redis-reset.js';
import { REDIS_URL, dropRedisPrefix, eventually, uniqueName } from '../support/services.js';

const log = pino({ level: 'silent' });
let redis: Redis;
let prefix: string;
const watches: RedisResetWatch[] = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
});
afterAll(() => redis.disconnect());
beforeEach(() => {
  prefix = uniqueName('cst_reset');
});
afterEach(async () => {
  while (watches.length) watches.pop()!.close();
  await dropRedisPrefix(redis, prefix);
});

/** A replica's watch; `rebuild` records each call. Never checks on its own unless `everyMs` is given. */
function replica(rebuild: (n: number) => Promise<unknown> = async () => undefined, everyMs = 3_600_000) {
  const calls: string[] = [];
  const watch = watchRedisReset({
    redis,
    prefix,
    everyMs,
    log,
    rebuild: (reason) => {
      calls.push(reason);
      return rebuild(calls.length);
    },
  });
  watches.push(watch);
  return { watch, calls };
}

describe('the Redis reset watch', () => {
  it('rebuilds when the sentinel is missing, and not again while it stands', async () => {
    const r = replica();
    expect(await r.watch.check('start')).toBe(true);
    expect(await redis.get(sentinelKey(prefix))).toMatch(/^ready:/);
    expect(await r.watch.check('periodic')).toBe(false);
    expect(r.calls).toEqual(['start']);
  });

  it('finds a flush (the sentinel gone with everything else) by its periodic check', async () => {
    const r = replica(undefined, 50);
    await r.watch.check('start');
    await dropRedisPrefix(redis, prefix);
    await eventually(async () => (r.calls.length === 2 ? true : undefined), 'a second rebuild');
    expect(r.calls).toEqual(['start', 'periodic']);
  });

  it('lets one replica of several rebuild: the others see its claim', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const a = replica(() => held);
    const b = replica();
    const first = a.watch.check('start');
    await eventually(async () => (a.calls.length === 1 ? true : undefined), 'the first replica rebuilding');
    expect(await b.watch.check('start')).toBe(false);
    release();
    expect(await first).toBe(true);
    expect(b.calls).toEqual([]);
  });

  it('gives its claim back when the rebuild fails, so the next check rebuilds', async () => {
    const r = replica(async (n) => {
      if (n === 1) throw new Error('Postgres is down');
    });
    expect(await r.watch.check('start')).toBe(false);
    expect(await redis.exists(sentinelKey(prefix))).toBe(0);
    expect(await r.watch.check('periodic')).toBe(true);
    expect(r.calls).toEqual(['start', 'periodic']);
  });

  it('rebuilds again when Redis is emptied while it rebuilds', async () => {
    const r = replica(async (n) => {
      if (n === 1) await dropRedisPrefix(redis, prefix);
    });
    expect(await r.watch.check('start')).toBe(true);
    expect(r.calls).toEqual(['start', 'emptied during the rebuild']);
    expect(await redis.get(sentinelKey(prefix))).toMatch(/^ready:/);
  });

  it('takes over from a replica that died mid-rebuild once its claim expires', async () => {
    await redis.set(sentinelKey(prefix), 'rebuilding:dead-replica', 'PX', 300);
    const r = replica(undefined, 50);
    expect(await r.watch.check('start')).toBe(false);
    await eventually(async () => (r.calls.length === 1 ? true : undefined), 'the rebuild after the claim expired');
    expect(r.calls).toEqual(['periodic']);
  });
});
