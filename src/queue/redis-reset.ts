import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../flow/ports.js';

/**
 * The sentinel: a key the bot writes under its prefix once Redis holds what
 * Postgres says it should (job schedulers, timers, queued work). Redis
 * without persistence comes back from a restart empty, and a flush empties
 * it too; either way the sentinel is gone with everything else, and its
 * absence is the one sign that needs no guessing.
 */
export const sentinelKey = (prefix: string) => `${prefix}:rebuilt`;

/**
 * A rebuild claims the sentinel (`rebuilding:<token>`) for this long (ms):
 * a replica that dies mid-rebuild leaves the key to expire, and the next
 * check, on any replica, rebuilds. Default 10 minutes.
 */
const CLAIM_MS = 10 * 60_000;

/** Marks the rebuild done only if its claim still stands: a Redis emptied mid-rebuild has lost it. */
const COMPLETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0`;
/** A failed rebuild gives its claim back at once, so the next check tries again. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface RedisResetWatch {
  /** Looks for the sentinel now; rebuilds when it is missing. Resolves true when this call rebuilt. Never throws. */
  check(reason: string): Promise<boolean>;
  close(): void;
}

export interface RedisResetOptions {
  /** A command connection (ioredis); its `ready` (a reconnect) triggers a check. */
  redis: Redis;
  prefix: string;
  /** The cheap periodic check (ms): catches a flush, which drops no connection. */
  everyMs: number;
  rebuild(reason: string): Promise<unknown>;
  log: Logger;
}

/**
 * Watches for an emptied Redis: at each (re)connection and every `everyMs`,
 * one EXISTS. When the sentinel is missing, one replica claims it (SET NX)
 * and rebuilds; the others see the claim and leave it. Checks never overlap
 * in a process: one that comes while a rebuild runs is run after it.
 */
export function watchRedisReset(opts: RedisResetOptions): RedisResetWatch {
  const key = sentinelKey(opts.prefix);
  let running: Promise<boolean> | undefined;
  let again: string | undefined;
  let closed = false;

  async function once(reason: string): Promise<boolean> {
    if ((await opts.redis.exists(key)) === 1) return false;
    const claim = `rebuilding:${randomUUID()}`;
    if ((await opts.redis.set(key, claim, 'PX', CLAIM_MS, 'NX')) !== 'OK') return false;
    opts.log.warn({ reason, key }, 'Redis has no rebuild sentinel (first start, or Redis was emptied): rebuilding its state from Postgres');
    try {
      await opts.rebuild(reason);
    } catch (err) {
      await opts.redis.eval(RELEASE, 1, key, claim).catch(() => undefined);
      throw err;
    }
    const done = await opts.redis.eval(COMPLETE, 1, key, claim, `ready:${new Date().toISOString()}`);
    // Emptied again while rebuilding: what was put back may be gone too.
    if (done !== 1) again ??= 'emptied during the rebuild';
    return true;
  }

  function check(reason: string): Promise<boolean> {
    if (closed) return Promise.resolve(false);
    if (running) {
      again ??= reason;
      return running;
    }
    running = (async () => {
      let rebuilt = false;
      let why: string | undefined = reason;
      while (why !== undefined && !closed) {
        again = undefined;
        try {
          rebuilt = (await once(why)) || rebuilt;
        } catch (err) {
          opts.log.error({ err: (err as Error).message, reason: why }, 'cannot rebuild Redis from Postgres; retrying at the next check');
        }
        why = again;
      }
      return rebuilt;
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  const onReady = () => void check('reconnected');
  opts.redis.on('ready', onReady);
  const timer = setInterval(() => void check('periodic'), opts.everyMs);
  timer.unref();
  return {
    check,
    close() {
      closed = true;
      clearInterval(timer);
      opts.redis.off('ready', onReady);
    },
  };
}
