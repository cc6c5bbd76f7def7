import type { Redis } from 'ioredis';
import type { HomePagesPort } from '../flow/ports.js';

/**
 * How long a person's page of App Home is remembered after they last paged (s).
 * Past it, or when Redis has lost it, a refresh shows the first page: what is
 * remembered is where they were looking, never anything to decide by.
 */
const PAGE_TTL_SEC = 3600;

export function createHomePages(redis: Redis, prefix: string): HomePagesPort {
  const key = (user: string) => `${prefix}:home-page:${user}`;
  return {
    async get(user) {
      const n = Number(await redis.get(key(user)));
      return Number.isSafeInteger(n) && n > 0 ? n : 0;
    },
    async set(user, page) {
      if (page === 0) await redis.del(key(user));
      else await redis.set(key(user), String(page), 'EX', PAGE_TTL_SEC);
    },
  };
}
