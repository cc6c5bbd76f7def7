import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { insertOverride } from '../../src/db/queries/oncall-overrides.js';
import { routeByName } from '../../src/domain/routing.js';
import { onCallFor } from '../../src/flow/oncall.js';
import { pageOnCall } from '../../src/flow/page.js';
import type { FlowPorts, Logger } from '../../src/flow/ports.js';
import { createSlackCache } from '../../src/queue/slack-cache.js';
import { createSlackPort, createWebClient } from '../../src/slack/web-port.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';
import { REDIS_URL, uniqueName, dropRedisPrefix } from '../support/services.js';

const A = 'U0PRIMARY01';
const B = 'U0NIGHTLY02';
const C = 'U0SECOND003';
const D = 'U0COVERER04';

/**
 * `payments`: schedule `ops` has A on a business-hours layer (priority 10)
 * over B around the clock; schedule `backup` has C. `gappy` covers only
 * business hours. `plain` has no schedule.
 */
const CONFIG = `
schedules:
  ops:
    layers:
      - name: business
        priority: 10
        rotation: { users: [${A}], kind: daily, timezone: UTC, start: "2026-01-01", handoff: "09:00" }
        activeHours: { days: [1, 2, 3, 4, 5], from: "09:00", to: "17:00" }
      - name: around-the-clock
        rotation: { users: [${B}], kind: daily, timezone: UTC, start: "2026-01-01", handoff: "00:00" }
  backup:
    layers:
      - name: backup
        rotation: { users: [${C}], kind: weekly, timezone: Europe/Berlin, start: "2026-01-01" }
  gappy:
    layers:
      - name: business
        rotation: { users: [${A}], kind: daily, timezone: UTC, start: "2026-01-01", handoff: "09:00" }
        activeHours: { days: [1, 2, 3, 4, 5], from: "09:00", to: "17:00" }
routes:
  - name: payments
    match: { actionTypes: ["payments.*"] }
    channel: C0PAYMENTS1
    approvers: { usergroup: S0PAYOPS01 }
    schedules: [ops, backup]
  - name: gappy
    match: { issueTypes: [access] }
    channel: C0ACCESS001
    approvers: { users: [${A}], usergroup: S0ACCESS01 }
    schedules: [gappy]
  - name: plain
    channel: C0GENERAL1
    approvers: { users: [${A}] }
`;

/** Monday 2026-01-12, 10:00 UTC: A's business hours. */
const MONDAY_10 = new Date('2026-01-12T10:00:00Z');
/** Monday 2026-01-12, 20:00 UTC: only B (and C) on call; `gappy` has nobody. */
const MONDAY_20 = new Date('2026-01-12T20:00:00Z');

let db: MigratedDb;
let fake: FakeSlack;
let redis: Redis;
let ports: Pick<FlowPorts, 'db' | 'slack' | 'config' | 'log' | 'now'>;
const warnings: object[] = [];
const prefix = uniqueName('cs_page');
const config = parseConfig(CONFIG, 'test config');
const route = (name: string) => routeByName(config.config, name)!;

beforeAll(async () => {
  db = await createMigratedDb();
  fake = await startFakeSlack();
  redis = new Redis(REDIS_URL);
  const client = createWebClient({ token: 'xoxb-test', slackApiUrl: fake.url });
  const log: Logger = { info() {}, debug() {}, error() {}, warn: (o) => void warnings.push(o) };
  ports = {
    db: db.database.db,
    slack: createSlackPort(client, () => MONDAY_10.getTime(), { cache: createSlackCache(redis, prefix), ttl: () => ({ presenceMs: 60_000, dndMs: 60_000 }) }),
    config: { current: () => config },
    log,
    now: () => MONDAY_10,
  };
});

afterAll(async () => {
  await dropRedisPrefix(redis, prefix);
  redis.disconnect();
  await fake.close();
  await db.close();
});

beforeEach(async () => {
  // Each test starts with every cache entry gone and everyone available.
  await dropRedisPrefix(redis, prefix);
  fake.reset();
  for (const u of [A, B, C, D]) {
    fake.setPresence(u, 'active');
    fake.setDnd(u, { dnd_enabled: false });
  }
  warnings.length = 0;
});

/** Do Not Disturb windows around the paging instant, by the Slack port's clock (the same instant). */
const nowSec = () => Math.floor(MONDAY_10.getTime() / 1000);
const dndNow = { dnd_enabled: true, next_dnd_start_ts: nowSec() - 600, next_dnd_end_ts: nowSec() + 3600 };

async function page(name: string, opts: { target?: 'primary' | 'secondary'; urgency?: 'normal' | 'critical'; now?: Date } = {}) {
  const escalationId = randomUUID();
  const result = await pageOnCall(ports, { escalationId, route: route(name), target: opts.target ?? 'primary', urgency: opts.urgency ?? 'normal', now: opts.now ?? MONDAY_10 });
  const events = await db.sql<Array<{ data: Record<string, unknown> }>>`select data from events where escalation_id = ${escalationId} and type = 'paged'`;
  return { result, event: events[0]?.data };
}

describe('who is on call for a route', () => {
  it('orders the primary’s layer, then lower layers, then the next schedule', async () => {
    const oc = await onCallFor(ports, route('payments'), MONDAY_10);
    expect(oc.candidates.map((c) => c.user)).toEqual([A, B, C]);
    expect(oc).toMatchObject({ primary: { user: A }, secondary: { user: B }, next: { at: new Date('2026-01-12T17:00:00Z'), shift: { user: B } } });
  });

  it('lays an override stored in Postgres over the first schedule, and it fills a gap too', async () => {
    await insertOverride(db.database.db, { route: 'gappy', userId: D, startsAt: new Date('2026-01-12T19:00:00Z'), endsAt: new Date('2026-01-12T21:00:00Z'), createdBy: A });
    expect((await onCallFor(ports, route('gappy'), MONDAY_20)).primary).toMatchObject({ user: D, source: { kind: 'override' } });
    expect((await onCallFor(ports, route('gappy'), new Date('2026-01-12T21:00:00Z'))).primary).toBeUndefined();
  });
});

describe('the reused schedule math', () => {
  it('sees an override the moment it is stored, from any writer', async () => {
    const at = new Date('2026-01-13T10:00:00Z');
    expect((await onCallFor(ports, route('payments'), at)).primary?.user).toBe(A);
    expect((await onCallFor(ports, route('payments'), new Date(at.getTime() + 1000))).primary?.user).toBe(A);
    await insertOverride(db.database.db, { route: 'payments', userId: D, startsAt: new Date('2026-01-13T09:00:00Z'), endsAt: new Date('2026-01-13T11:00:00Z'), createdBy: A });
    const now = await onCallFor(ports, route('payments'), new Date(at.getTime() + 2000));
    expect(now.candidates.map((c) => c.user)).toEqual([D, A, B, C]);
    expect(now.at).toEqual(new Date(at.getTime() + 2000));
  });

  it('recomputes at a handoff: the answer cached before 17:00 is not used after it', async () => {
    const before = await onCallFor(ports, route('payments'), new Date('2026-01-14T16:59:59Z'));
    const after = await onCallFor(ports, route('payments'), new Date('2026-01-14T17:00:00Z'));
    expect([before.primary?.user, after.primary?.user]).toEqual([A, B]);
  });
});

describe('pageOnCall', () => {
  it('pages the available primary and records who, why, and their availability', async () => {
    const { result, event } = await page('payments');
    expect(result).toMatchObject({ userId: A, fallback: false, reason: `${A} is the on-call primary for route payments` });
    expect(event).toMatchObject({
      route: 'payments',
      target: 'primary',
      user: A,
      fallback: false,
      considered: [{ user: A, presence: 'active', dnd: false, available: true, paged: true, why: 'available' }],
    });
  });

  it.each([
    ['away', () => fake.setPresence(A, 'away'), 'away'],
    ['in Do Not Disturb', () => fake.setDnd(A, dndNow), 'in Do Not Disturb'],
  ])('skips a primary who is %s and pages the next layer', async (_n, make, why) => {
    make();
    const { result, event } = await page('payments');
    expect(result.userId).toBe(B);
    expect(result.reason).toBe(`${B} is the on-call secondary for route payments, paged because ${A} ${why}`);
    expect(event!.considered).toEqual([
      expect.objectContaining({ user: A, available: false, paged: false, why }),
      expect.objectContaining({ user: B, available: true, paged: true }),
    ]);
  });

  it('reaches the second schedule when both layers of the first are unavailable', async () => {
    fake.setPresence(A, 'away');
    fake.setDnd(B, dndNow);
    expect((await page('payments')).result.userId).toBe(C);
  });

  it('does not count a DND window that has not started yet', async () => {
    fake.setDnd(A, { dnd_enabled: true, next_dnd_start_ts: nowSec() + 3600, next_dnd_end_ts: nowSec() + 7200 });
    expect((await page('payments')).result).toMatchObject({ userId: A, considered: [{ dnd: false }] });
  });

  it('falls back to the channel and user group when nobody is available, and says who was not', async () => {
    for (const u of [A, B, C]) fake.setPresence(u, 'away');
    const { result, event } = await page('payments');
    expect(result.userId).toBeUndefined();
    expect(result).toMatchObject({ fallback: true, channel: 'C0PAYMENTS1', usergroup: 'S0PAYOPS01' });
    expect(result.reason).toBe(`nobody on call for route payments is available (${A} away, ${B} away, ${C} away)`);
    expect(event).toMatchObject({ user: null, fallback: true });
  });

  it('pages the primary anyway for a critical escalation when nobody is available', async () => {
    for (const u of [A, B, C]) fake.setPresence(u, 'away');
    const { result } = await page('payments', { urgency: 'critical' });
    expect(result).toMatchObject({ userId: A, fallback: false });
    expect(result.reason).toContain('paged anyway');
  });

  it('leaves the record to the caller when asked, handing it the event', async () => {
    const escalationId = randomUUID();
    const result = await pageOnCall(ports, { escalationId, route: route('payments'), target: 'primary', urgency: 'normal', now: MONDAY_10, record: false });
    expect(result.event).toMatchObject({ escalationId, type: 'paged', data: { user: A } });
    expect(await db.sql`select 1 from events where escalation_id = ${escalationId}`).toHaveLength(0);
  });

  it('skips the primary when asked for the secondary', async () => {
    expect((await page('payments', { target: 'secondary' })).result.userId).toBe(B);
  });

  it('says a secondary is missing, not that nobody is on call, when only the primary is', async () => {
    const { result } = await page('gappy', { target: 'secondary' });
    expect(result).toMatchObject({ fallback: true, reason: `no secondary is on call for route gappy (${A} is the only one on call)` });
  });

  it('falls back in a schedule gap, and when the route has no schedule', async () => {
    expect((await page('gappy', { now: new Date('2026-01-12T22:00:00Z') })).result).toMatchObject({ fallback: true, reason: 'nobody is on call for route gappy', usergroup: 'S0ACCESS01' });
    const plain = await page('plain');
    expect(plain.result).toMatchObject({ fallback: true, reason: 'route plain has no on-call schedule' });
    expect(plain.event).toBeUndefined(); // nobody to page: nothing recorded
    expect(fake.callsTo('users.getPresence')).toHaveLength(0);
  });

  it('asks Slack once per person within the cache time: a second page makes no Slack call', async () => {
    await page('payments');
    expect(fake.callsTo('users.getPresence')).toHaveLength(1);
    expect(fake.callsTo('dnd.info')).toHaveLength(1);
    const { result } = await page('payments');
    expect(result.considered[0]).toMatchObject({ user: A, cached: true });
    expect(fake.callsTo('users.getPresence')).toHaveLength(1);
    expect(fake.callsTo('dnd.info')).toHaveLength(1);
  });

  it('shares the cache between replicas: another process’s port finds the answer in Redis', async () => {
    await page('payments');
    const replica = createSlackPort(createWebClient({ token: 'xoxb-test', slackApiUrl: fake.url }), () => MONDAY_10.getTime(), {
      cache: createSlackCache(redis, prefix),
      ttl: () => ({ presenceMs: 60_000, dndMs: 60_000 }),
    });
    expect(await replica.availability(A)).toEqual({ presence: 'active', dnd: false, cached: true });
    expect(fake.callsTo('users.getPresence')).toHaveLength(1);
  });

  it('lets a burst of cards for the same person share one pair of Slack calls', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => page('payments')));
    expect(results.every((r) => r.result.userId === A)).toBe(true);
    expect(fake.callsTo('users.getPresence')).toHaveLength(1);
    expect(fake.callsTo('dnd.info')).toHaveLength(1);
  });

  it('treats a failed Slack lookup as available, logs it, and does not cache the failure', async () => {
    fake.failWith('users.getPresence', { error: 'missing_scope' });
    const { result, event } = await page('payments');
    expect(result).toMatchObject({ userId: A, considered: [{ presence: 'unknown', paged: true, why: 'presence unknown: paged' }] });
    expect(String((event!.considered as Array<{ error?: string }>)[0]!.error)).toContain('missing_scope');
    expect(warnings).toEqual([expect.objectContaining({ user: A })]);
    await page('payments');
    expect(fake.callsTo('users.getPresence')).toHaveLength(2);
    expect(fake.callsTo('dnd.info')).toHaveLength(1);
  });
});
