import { createServer } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureRedis, type RedisHandle } from '../../src/embedded/redis-server.js';
import { startCallbackServer } from '../support/callback-server.js';
import { dropRedisPrefix, eventually } from '../support/services.js';
import { GENERAL_CHANNEL, exampleConfigText, makeEscalation, startHarness, type Harness } from '../support/harness.js';

/**
 * Redis without persistence comes back empty from a restart, and a flush
 * empties it while connected: either way every timer and job scheduler is
 * gone. The bot must notice, and put back from Postgres what only Redis held,
 * while agents keep sending.
 */

/** Generous pacing: this file is about lost Redis state, not Slack's per-channel pace. */
const config = exampleConfigText.replace('postsPerSecondPerChannel: 1', 'postsPerSecondPerChannel: 1000').replace('postBurst: 3', 'postBurst: 1000');
/** Pending escalations whose deadlines pass while Redis is empty, as in the report (40). */
const EXPIRING = 40;
/** Escalations whose cards had not gone out when Redis was emptied. */
const UNPOSTED = 10;
/** Escalations agents send once Redis is back: the load the recovery happens under. */
const ARRIVING = 60;

type Callbacks = Awaited<ReturnType<typeof startCallbackServer>>;
const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (open.length) await open.pop()!();
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function countWhere(h: Harness, ids: string[], condition: 'posted' | 'expired'): Promise<number> {
  const rows =
    condition === 'posted'
      ? await h.sql`select count(*)::int as n from escalations where id = any(${ids}) and card_state = 'posted'`
      : await h.sql`select count(*)::int as n from escalations where id = any(${ids}) and status = 'expired' and fail_safe`;
  return rows[0]!.n as number;
}

const all = (h: Harness, ids: string[], condition: 'posted' | 'expired', timeoutMs = 30_000) =>
  eventually(async () => ((await countWhere(h, ids, condition)) === ids.length ? true : undefined), `${ids.length} ${condition}`, timeoutMs);

/**
 * Before Redis is emptied: EXPIRING escalations pending with their cards up
 * and timers set an hour out, whose deadlines Postgres then brings to a few
 * seconds from now (no timer in Redis says so: only a rebuild can learn it);
 * and UNPOSTED escalations whose cards wait out an hour-long Retry-After.
 */
async function before(h: Harness, cb: Callbacks): Promise<{ expiring: string[]; unposted: string[]; lastEventId: number }> {
  const expiring = Array.from({ length: EXPIRING }, () => makeEscalation({ deadline: new Date(Date.now() + 3_600_000).toISOString(), callback: { url: cb.url } }));
  await h.queue.addBulk(expiring.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
  const ids = expiring.map((e) => e.id);
  await all(h, ids, 'posted');

  // Slack answers the first card with an hour-long Retry-After; the channel's pace holds the others back that long.
  h.fake.fail429('chat.postMessage', { channel: GENERAL_CHANNEL, retryAfterSec: 3600, times: 1 });
  const unposted = Array.from({ length: UNPOSTED }, () => makeEscalation({ issueType: 'general' }));
  await h.enqueue(unposted[0]);
  await eventually(async () => ((await h.sql`select 1 from escalations where id = ${unposted[0]!.id} and card_state = 'none'`).length ? true : undefined), 'the first card refused');
  await h.queue.addBulk(unposted.slice(1).map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
  const waiting = unposted.map((e) => e.id);
  // Each took its turn at the channel's pace, was told to wait, and left its card unposted.
  await eventually(
    async () => {
      const [r] = await h.sql`select count(*)::int as n from escalations where id = any(${waiting}) and card_state = 'none'`;
      return r!.n === UNPOSTED ? true : undefined;
    },
    'the general cards waiting on Slack',
    30_000,
  );

  await h.sql`update escalations set deadline = now() + interval '2 seconds' where id = any(${ids})`;
  const [{ max }] = (await h.sql`select coalesce(max(id), 0)::int as max from events`) as unknown as [{ max: number }];
  return { expiring: ids, unposted: waiting, lastEventId: max };
}

/** After Redis was emptied: everything owed happens, once. */
async function recovered(h: Harness, cb: Callbacks, was: { expiring: string[]; unposted: string[]; lastEventId: number }): Promise<void> {
  const arriving = Array.from({ length: ARRIVING }, () => makeEscalation());
  await h.queue.addBulk(arriving.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));

  // The deadlines passed with Redis empty: each still expires, with the fail-safe deny, and the agent is told.
  await all(h, was.expiring, 'expired');
  const expiredEvents = await h.sql`select escalation_id, data from events where type = 'expired' and escalation_id = any(${was.expiring})`;
  expect(expiredEvents).toHaveLength(EXPIRING);
  for (const ev of expiredEvents) expect(ev.data).toMatchObject({ outcome: 'denied', failSafe: true });
  const told = await eventually(
    async () => {
      const got = was.expiring.map((id) => cb.received.find((c) => c.json.escalationId === id));
      return got.every((c) => c !== undefined) ? got : undefined;
    },
    'a callback for each expired escalation',
    30_000,
  );
  for (const c of told) expect(c!.json).toMatchObject({ status: 'expired', proceed: false });

  // Cards that never went out go out now, once each.
  await all(h, was.unposted, 'posted');
  for (const id of was.unposted) {
    expect(h.fake.messages(GENERAL_CHANNEL).filter((m) => m.metadata?.event_payload.escalation_id === id), id).toHaveLength(1);
  }
  // Agents' new escalations are served.
  await all(h, arriving.map((e) => e.id), 'posted');

  // Every event since Redis was emptied is sealed into the audit chain (the sealer seals events 5 s old).
  const [{ upTo }] = (await h.sql`select max(id)::int as "upTo" from events`) as unknown as [{ upTo: number }];
  expect(upTo).toBeGreaterThan(was.lastEventId);
  await eventually(
    async () => {
      const [r] = await h.sql`select count(*)::int as n from events e
        where e.id > ${was.lastEventId} and e.id <= ${upTo} and not exists (select 1 from audit_chain c where c.event_id = e.id)`;
      return r!.n === 0 ? true : undefined;
    },
    'the new events sealed',
    30_000,
  );
  // A decision happened once: one callback per expired escalation, however many rebuilds and sweeps ran.
  for (const id of was.expiring) expect(cb.received.filter((c) => c.json.escalationId === id), id).toHaveLength(1);
}

describe('an emptied Redis', () => {
  it('is noticed while connected (a flush of the bot’s keys), and rebuilt from Postgres: expiries, sealing and cards resume', async () => {
    const cb = await startCallbackServer();
    open.push(() => cb.close());
    // The periodic check is what catches a flush: it drops no connection.
    const h = await startHarness({ config, env: { REDIS_CHECK_MS: '200' } });
    open.push(() => h.close());
    const was = await before(h, cb);

    await dropRedisPrefix(h.redis, h.prefix);

    await recovered(h, cb, was);
  }, 120_000);

  it('is noticed when a Redis without persistence restarts empty on the same port, and rebuilt the same way', async () => {
    const port = await freePort();
    const log = pino({ level: 'silent' });
    let redis: RedisHandle = await ensureRedis(`redis://127.0.0.1:${port}`, log);
    expect(redis.started?.port).toBe(port);
    open.push(() => redis.stop());
    const cb = await startCallbackServer();
    open.push(() => cb.close());
    // No periodic check within the test: the reconnection alone must trigger the rebuild.
    const h = await startHarness({ config, redisUrl: redis.url, env: { REDIS_CHECK_MS: '600000' } });
    open.push(() => h.close());
    const was = await before(h, cb);

    await redis.stop();
    redis = await ensureRedis(`redis://127.0.0.1:${port}`, log);
    expect(redis.started?.port).toBe(port);

    await recovered(h, cb, was);
  }, 120_000);
});
