import type { Redis } from 'ioredis';
import type { TtlCache } from '../slack/web-port.js';

/**
 * Slack lookups cached in Redis, so every replica shares one budget of Tier 3
 * calls (users.getPresence, dnd.info). Keys live under the queue prefix.
 */
export function createSlackCache(redis: Redis, prefix: string): TtlCache {
  const k = (key: string) => `${prefix}:slack-cache:${key}`;
  return {
    async getMany(keys) {
      if (keys.length === 0) return [];
      const values = await redis.mget(...keys.map(k));
      return values.map((v) => v ?? undefined);
    },
    async set(key, value, ttlMs) {
      await redis.set(k(key), value, 'PX', Math.max(1, Math.round(ttlMs)));
    },
  };
}
