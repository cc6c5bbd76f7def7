/**
 * Redis emptied under load, as the redis-reset test does it: every key of
 * this world's own prefix is deleted (never FLUSHALL / FLUSHDB: the Redis is
 * shared). Before: pending escalations with their cards up and their
 * deadlines brought to seconds from now in Postgres (only a rebuild from
 * Postgres can learn them), and a load whose cards are still going out.
 * After: more load. Owed: the pending ones expire with the fail-safe deny and
 * one callback each; every other escalation is carded.
 */
import { Redis } from 'ioredis';
import { REDIS_URL, dropRedisPrefix } from '../../test/support/services.js';
import { allCarded, type ChaosCase } from '../case.js';
import { settle } from '../tally.js';
import { until } from '../world.js';

export const redisFlush: ChaosCase = {
  name: 'redis-flush',
  fault: "every key of the bot's Redis prefix deleted while pending escalations wait and cards go out",
  async run(ctx) {
    const expiringN = ctx.quick ? 40 : 150;
    const loadN = ctx.quick ? 60 : 300;
    // The periodic check is what notices a flush: it drops no connection.
    const w = await ctx.world({ env: { REDIS_CHECK_MS: '200' } });
    await w.bot();
    const t0 = Date.now();
    const expiring = w.escalations(expiringN, { deadline: new Date(Date.now() + 3_600_000).toISOString() });
    const expiringIds = expiring.map((e) => e.id);
    await w.enqueue(expiring);
    if (!(await allCarded(w, expiringIds, 60_000))) ctx.log('not every pending card went out before the flush');
    await w.world.sql`update escalations set deadline = now() + interval '3 seconds' where id = any(${expiringIds})`;

    // Load in flight: flushed once the bot has recorded each escalation (a job Redis alone held is the agent's to resend).
    const before = w.escalations(loadN / 2);
    await w.enqueue(before);
    await until(async () => {
      const [r] = await w.world.sql`select count(*)::int as n from escalations where id = any(${before.map((e) => e.id)})`;
      return r!.n === before.length;
    }, 30_000);
    const [{ posting }] = (await w.world.sql`select count(*)::int as posting from escalations where id = any(${before.map((e) => e.id)}) and card_state <> 'posted'`) as unknown as [{ posting: number }];
    const redis = new Redis(REDIS_URL);
    try {
      await dropRedisPrefix(redis, w.world.env.COUNTERSIGN_QUEUE_PREFIX!);
    } finally {
      redis.disconnect();
    }
    ctx.log(`flushed the prefix with ${posting} of ${before.length} loaded cards not yet out`);
    const after = w.escalations(loadN / 2);
    await w.enqueue(after);
    const ids = [...expiringIds, ...before.map((e) => e.id), ...after.map((e) => e.id)];
    const t = await settle(w, { ids, expiring: expiringIds }, ctx.quick ? 30_000 : 60_000);
    return { ...t, durationMs: Date.now() - t0, notes: [`flushed with ${expiringN} pending and ${posting} cards not yet out`] };
  },
};
