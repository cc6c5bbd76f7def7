import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import type { SchedulerPort } from '../../src/flow/ports.js';
import { rebuildFromPostgres, type RebuildPorts } from '../../src/flow/rebuild.js';
import { createAgentFlags } from '../../src/queue/agent-flags.js';
import { createBudgetStore } from '../../src/queue/budget-store.js';
import { createDecisionStore } from '../../src/queue/decision-store.js';
import { decisionKey } from '../../src/queue/names.js';
import { exampleConfigText } from '../support/harness.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../support/services.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const config = parseConfig(exampleConfigText, 'examples/countersign.yml');
/** The example's policy.supervisedReviewMinutes. */
const SLA_MS = 60 * 60_000;

let db: MigratedDb;
let redis: Redis;
let prefix: string;
/** The database's clock: rows are aged by its now(), and the flow is given the same instant. */
let dbNow: Date;
const asked: Array<[string, ...unknown[]]> = [];
let schedulesUpserted = 0;

/** Records what the rebuild asks of the queues; what a queue does with a deterministic jobId is BullMQ's (see test/e2e/redis-reset.test.ts). */
const scheduler: SchedulerPort = {
  scheduleExpiry: async (id, at) => void asked.push(['expiry', id, at.toISOString()]),
  enqueueNotify: async (id, kind = 'decision') => void asked.push(['notify', id, kind]),
  enqueueCard: async (id) => void asked.push(['card', id]),
  refreshHomes: async () => undefined,
  enqueueDigest: async (id) => void asked.push(['digest', id]),
  refreshDigest: async (id) => void asked.push(['digest-refresh', id]),
  enqueueCallback: async (id, _url, kind = 'decision') => void asked.push(['callback', id, kind]),
  enqueueLateClick: async () => undefined,
  enqueueAlert: async () => undefined,
  scheduleReview: async (id, remindAt, escalateAt) => void asked.push(['review', id, remindAt?.toISOString() ?? null, escalateAt.toISOString()]),
  scheduleChainStep: async () => undefined,
  cancelChain: async () => 0,
  chainJobState: async () => 'unknown',
};

type Row = { status: string; card?: string; review?: string; callback?: boolean; deadlineMin?: number; decidedMin?: number; createdMin?: number; notified?: boolean };

/** An escalation row as the flow left it; minutes are relative to the database's now(). */
async function row(r: Row): Promise<string> {
  const id = randomUUID();
  const minutes = (m: number | undefined) => (m === undefined ? null : new Date(dbNow.getTime() + m * 60_000));
  await db.sql`insert into escalations (id, status, card_state, review_state, channel, callback_url, deadline, decided_at, created_at, notified_at)
    values (${id}, ${r.status}, ${r.card ?? 'posted'}, ${r.review ?? 'none'}, 'C0REFUNDS1', ${r.callback ? 'http://127.0.0.1:9/cb' : null},
      ${minutes(r.deadlineMin)}, ${minutes(r.decidedMin)}, ${minutes(r.createdMin ?? 0)}, ${r.notified === false ? null : minutes(r.decidedMin ?? 0)})`;
  return id;
}

async function event(escalationId: string, type: string, data: Record<string, unknown> = {}): Promise<void> {
  await db.sql`insert into events (escalation_id, type, actor, data) values (${escalationId}, ${type}, 'system', ${db.sql.json(data as never)})`;
}

function ports(): RebuildPorts {
  return {
    db: db.database.db,
    scheduler,
    config: { current: () => config },
    log: silent,
    now: () => dbNow,
    budgets: createBudgetStore(redis, prefix),
    flags: createAgentFlags(redis, prefix),
    decisions: createDecisionStore(redis, prefix),
    schedules: async () => void schedulesUpserted++,
  };
}

const askedFor = (id: string) => asked.filter((a) => a[1] === id);

beforeAll(async () => {
  db = await createMigratedDb();
  redis = new Redis(REDIS_URL);
  prefix = uniqueName('cst_rebuild');
  const [r] = await db.sql`select now() as now`;
  dbNow = r!.now as Date;
});
afterAll(async () => {
  await dropRedisPrefix(redis, prefix);
  redis.disconnect();
  await db?.close();
});

describe('rebuilding Redis from Postgres', () => {
  it('puts back exactly what only Redis held, read from the rows and their records', async () => {
    const waiting = await row({ status: 'pending', deadlineMin: 30 });
    const unposted = await row({ status: 'pending', card: 'none', deadlineMin: 30 });
    const givenUp = await row({ status: 'pending', card: 'posting', deadlineMin: 30 });
    await event(givenUp, 'card_post_failed', { error: 'channel_not_found' });
    const overdue = await row({ status: 'pending', deadlineMin: -1 });
    const reminded = await row({ status: 'allowed', review: 'pending', createdMin: -70, decidedMin: -70, callback: true });
    await event(reminded, 'review_reminded');
    await event(reminded, 'agent_notified', { via: 'callback', httpStatus: 204 });
    const reviewCardUnposted = await row({ status: 'allowed', review: 'pending', card: 'none', createdMin: -1, decidedMin: -1 });
    const wrong = await row({ status: 'allowed', review: 'wrong', decidedMin: -5, callback: true });
    await event(wrong, 'agent_notified', { via: 'callback', httpStatus: 204 });
    const untold = await row({ status: 'denied', decidedMin: -1, callback: true, notified: false });
    const refused = await row({ status: 'denied', decidedMin: -1, callback: true });
    await event(refused, 'agent_notify_failed', { via: 'callback', refused: true, error: 'host not allowed' });
    const longAgo = await row({ status: 'denied', decidedMin: -40 * 24 * 60, callback: true });

    const report = await rebuildFromPostgres(ports());

    expect(schedulesUpserted).toBe(1);
    // Every pending escalation's timer, at its deadline; the overdue one is also expired by the sweep at once.
    for (const id of [waiting, unposted, givenUp, overdue]) expect(askedFor(id)).toContainEqual(['expiry', id, expect.any(String)]);
    expect(askedFor(waiting)).toEqual([['expiry', waiting, new Date(dbNow.getTime() + 30 * 60_000).toISOString()]]);
    expect((await db.sql`select status, fail_safe from escalations where id = ${overdue}`)[0]).toEqual({ status: 'expired', fail_safe: true });
    expect(askedFor(overdue)).toContainEqual(['notify', overdue, 'decision']);
    // Cards not in Slack, unless given up (alerted already).
    expect(askedFor(unposted)).toContainEqual(['notify', unposted, 'post']);
    expect(askedFor(reviewCardUnposted)).toContainEqual(['notify', reviewCardUnposted, 'post']);
    expect(askedFor(givenUp).filter((a) => a[0] === 'notify')).toEqual([]);
    // A review timer that fired (its record exists) is not set again; the other one is, at twice the SLA.
    const created = (await db.sql`select created_at from escalations where id = ${reminded}`)[0]!.created_at as Date;
    expect(askedFor(reminded)).toEqual([['review', reminded, null, new Date(created.getTime() + 2 * SLA_MS).toISOString()]]);
    // Callbacks owed: the decision's when none reached the agent, a wrong review's second one; never a refused or old one.
    expect(askedFor(wrong)).toEqual([['callback', wrong, 'review']]);
    expect(askedFor(untold)).toEqual(expect.arrayContaining([['callback', untold, 'decision'], ['notify', untold, 'decision']]));
    expect(askedFor(refused)).toEqual([]);
    expect(askedFor(longAgo)).toEqual([]);
    // The durable decision store, for agents waiting on it.
    for (const id of [reminded, wrong, untold, refused]) expect(await redis.exists(decisionKey(prefix, id)), id).toBe(1);
    expect(await redis.exists(decisionKey(prefix, longAgo))).toBe(0);
    expect(report).toMatchObject({ cards: 2, callbacks: 2, reviews: 2, swept: { expired: 1 } });
  });

  it('asks again for the same jobs when run again (deterministic ids make that a no-op), and decides nothing twice', async () => {
    const before = asked.length;
    const expiredBefore = (await db.sql`select count(*)::int as n from events where type = 'expired'`)[0]!.n;
    const report = await rebuildFromPostgres(ports());
    expect(report.swept.expired).toBe(0);
    expect((await db.sql`select count(*)::int as n from events where type = 'expired'`)[0]!.n).toBe(expiredBefore);
    // The same asks, less the escalation the first run expired (and the hand-backs the sweep repeats).
    const jobs = (list: typeof asked) => list.filter((a) => !(a[0] === 'notify' && a[2] === 'decision')).map((a) => JSON.stringify(a));
    const again = jobs(asked.slice(before));
    const first = jobs(asked.slice(0, before)).filter((a) => again.includes(a) || !a.startsWith('["expiry"'));
    expect(again.length).toBeGreaterThan(0);
    expect(again).toEqual(first);
  });
});
