import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { CANDIDATES_TTL_MS } from '../../src/db/queries/standing.js';
import { intake } from '../../src/flow/intake.js';
import type { FlowPorts, SchedulerPort } from '../../src/flow/ports.js';
import { createAgentFlags } from '../../src/queue/agent-flags.js';
import { createBudgetStore } from '../../src/queue/budget-store.js';
import { createDecisionStore } from '../../src/queue/decision-store.js';
import type { FakeCall } from '../support/fake-slack.js';
import { OWNER, startHarness, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';
import { ADMIN, GRANTOR, clickRevoke, purchase, slash, standingConfig, submitGrant } from '../support/standing.js';

let h: Harness;
beforeAll(async () => {
  // Slack's pacing lifted: the requests left pending post their cards at once, not one a second.
  const config = standingConfig.replace('postsPerSecondPerChannel: 1', 'postsPerSecondPerChannel: 10000').replace('postBurst: 3', 'postBurst: 10000');
  h = await startHarness({ config, env: { WORKER_CONCURRENCY: '50' } });
});
afterAll(async () => {
  await h?.close();
});

/** Grants on a fresh purchase from `vendor` (each test its own, so no grant covers another test's requests). */
async function grant(vendor: string, fields: Parameters<typeof submitGrant>[3] = {}, agentId?: string) {
  const e = purchase(300, { vendor, ...(agentId ? { agentId } : {}) });
  expect(await h.client.authorize(e)).toMatchObject({ decision: 'pending' });
  const card = await h.card(e.id);
  await submitGrant(h, GRANTOR, card, fields);
  const row = await eventually(async () => (await h.sql`select * from standing_approvals where created_from = ${e.id}`)[0], 'the standing approval');
  return row!;
}

const usesOf = async (id: string) => (await h.sql`select used_count, spent_micros from standing_approvals where id = ${id}`)[0]!;

describe('limits under concurrency', () => {
  it('approves exactly the count limit out of 50 concurrent requests, never more', async () => {
    const s = await grant('v-count', { count: '7', max: { amountUsd: '400' } });
    const answers = await Promise.all(Array.from({ length: 50 }, () => h.client.authorize(purchase(300, { vendor: 'v-count' }), { timeoutMs: 30_000 })));
    const approved = answers.filter((a) => a.code === 'standing_approved');
    expect(approved).toHaveLength(7);
    expect(answers.filter((a) => a.decision === 'pending')).toHaveLength(43);
    expect(await usesOf(s.id)).toMatchObject({ used_count: 7 });
    const uses = await h.sql`select use_number from standing_approval_uses where standing_id = ${s.id} order by use_number`;
    expect(uses.map((u) => u.use_number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await h.sql`select 1 from escalations where decided_by = ${`standing:${s.id}`}`).toHaveLength(7);
  });

  it('approves only what fits the spend limit out of 50 concurrent requests', async () => {
    const s = await grant('v-spend', { count: '50', spendUsd: '1000', max: { amountUsd: '400' } });
    const answers = await Promise.all(Array.from({ length: 50 }, () => h.client.authorize(purchase(300, { vendor: 'v-spend' }), { timeoutMs: 30_000 })));
    // $300 each: three fit in $1,000, a fourth would make $1,200.
    expect(answers.filter((a) => a.code === 'standing_approved')).toHaveLength(3);
    expect(await usesOf(s.id)).toEqual({ used_count: 3, spent_micros: '900000000' });
  });
});

describe('/countersign standing and revoking', () => {
  const replies = () => h.fake.calls.filter((c) => c.method === 'response_url');
  const next = (since: number, what: (c: FakeCall) => boolean) => h.fake.waitFor((c) => c.method === 'response_url' && replies().indexOf(c) >= since && what(c));

  it('lists the active ones with their use so far and a Revoke button each', async () => {
    const s = await grant('v-list', { count: '4', spendUsd: '2000' });
    await h.client.authorize(purchase(250.5, { vendor: 'v-list' }));
    const since = replies().length;
    await slash(h, ADMIN, 'standing');
    const reply = await next(since, (c) => JSON.stringify(c.args).includes(s.id));
    const text = JSON.stringify(reply.args.blocks);
    expect(reply.args.response_type).toBe('ephemeral');
    expect(text).toContain(`granted by <@${GRANTOR}>`);
    expect(text).toContain('used 1 of 4');
    expect(text).toContain('spent $250.50 of $2,000.00');
    expect(text).toContain('amountUsd ≤ 300');
    expect(text).toContain('countersign.standing_revoke');
  });

  it('refuses to list them to someone who is neither approver nor admin', async () => {
    const since = replies().length;
    await slash(h, 'U0STRANGER', 'standing');
    const reply = await next(since, () => true);
    expect(String(reply.args.text)).toContain('Only approvers and Countersign admins');
  });

  it('lets the grantor revoke, and refuses anyone else but an admin', async () => {
    const s = await grant('v-revoke');
    let since = replies().length;
    await clickRevoke(h, OWNER, s.id);
    const refused = await next(since, () => true);
    expect(String(refused.args.text)).toContain(`Only <@${GRANTOR}>, who granted it, or a Countersign admin may revoke`);
    expect((await h.sql`select revoked_at from standing_approvals where id = ${s.id}`)[0]!.revoked_at).toBeNull();
    expect(await h.sql`select 1 from events where type = 'standing_refused' and actor = ${OWNER} and data->>'standingId' = ${s.id}`).toHaveLength(1);

    since = replies().length;
    await clickRevoke(h, GRANTOR, s.id);
    await next(since, (c) => String(c.args.text).startsWith('Revoked'));
    const [row] = await h.sql`select revoked_by from standing_approvals where id = ${s.id}`;
    expect(row!.revoked_by).toBe(GRANTOR);
    expect(await h.sql`select 1 from events where type = 'standing_revoked' and escalation_id = ${s.created_from}`).toHaveLength(1);
    expect(await h.client.authorize(purchase(300, { vendor: 'v-revoke' }))).toMatchObject({ decision: 'pending' });
  });

  it('lets an admin revoke one they did not grant', async () => {
    const s = await grant('v-admin');
    const since = replies().length;
    await clickRevoke(h, ADMIN, s.id);
    await next(since, (c) => String(c.args.text).startsWith('Revoked'));
    expect((await h.sql`select revoked_by from standing_approvals where id = ${s.id}`)[0]!.revoked_by).toBe(ADMIN);
  });

  it('after a revoke racing uses commits, no further use: every use counted happened before it', async () => {
    const s = await grant('v-race', { count: '100' });
    const racing = Array.from({ length: 30 }, () => h.client.authorize(purchase(300, { vendor: 'v-race' }), { timeoutMs: 30_000 }));
    await clickRevoke(h, GRANTOR, s.id);
    await eventually(async () => ((await h.sql`select revoked_at from standing_approvals where id = ${s.id}`)[0]!.revoked_at ? true : undefined), 'the revoke');
    const after = await Promise.all(Array.from({ length: 20 }, () => h.client.authorize(purchase(300, { vendor: 'v-race' }), { timeoutMs: 30_000 })));
    expect(after.every((a) => a.decision === 'pending')).toBe(true);
    const before = await Promise.all(racing);
    const approved = before.filter((a) => a.code === 'standing_approved').length;
    expect((await usesOf(s.id)).used_count).toBe(approved);
    // Every use belongs to a request that raced the revoke, none to one made after it was seen. (The uses'
    // times cannot show the order: a request reads the clock before its claim, the revoke before its commit.)
    const uses = await h.sql<{ escalation_id: string }[]>`select escalation_id from standing_approval_uses where standing_id = ${s.id}`;
    const raced = new Set(before.filter((a) => a.code === 'standing_approved').map((a) => a.escalationId));
    expect(uses.map((u) => u.escalation_id).sort()).toEqual([...raced].sort());
  });
});

describe('expiry', () => {
  let database: Database;
  let ports: Pick<FlowPorts, 'db' | 'config' | 'scheduler' | 'now' | 'budgets' | 'flags' | 'decisions'>;
  let now = new Date(0);
  beforeAll(async () => {
    database = await openDatabase({ url: h.dbUrl, dataDir: '/nonexistent', max: 2 });
    const config = parseConfig(standingConfig, 'standing test config');
    const scheduler = { scheduleExpiry: async () => undefined, enqueueNotify: async () => undefined, enqueueCallback: async () => undefined, enqueueAlert: async () => undefined, scheduleReview: async () => undefined } as unknown as SchedulerPort;
    // The bot's own Postgres and Redis state, with a clock of the test's own.
    ports = { db: database.db, config: { current: () => config }, scheduler, now: () => now, budgets: createBudgetStore(h.redis, h.prefix), flags: createAgentFlags(h.redis, h.prefix), decisions: createDecisionStore(h.redis, h.prefix) };
  });
  afterAll(async () => {
    await database?.close();
  });

  it('covers requests until the duration is over, and none from then on', async () => {
    const s = await grant('v-expiry', { hours: '2' });
    expect(s.expires_at.getTime() - s.created_at.getTime()).toBe(2 * 3_600_000);
    now = new Date(s.expires_at.getTime() - 1);
    const inTime = await intake(ports, purchase(300, { vendor: 'v-expiry' }), undefined);
    expect(inTime).toMatchObject({ kind: 'accepted', row: { status: 'approved', decidedBy: `standing:${s.id}` } });
    now = new Date(s.expires_at.getTime());
    const late = await intake(ports, purchase(300, { vendor: 'v-expiry' }), undefined);
    expect(late).toMatchObject({ kind: 'accepted', row: { status: 'pending' } });
  });

  it('finds a grant made in another process since its last look, when the candidates it tries first do not cover the request', async () => {
    const a = await grant('v-seen');
    now = new Date(a.created_at.getTime() + 60_000);
    expect(await intake(ports, purchase(300, { vendor: 'v-seen' }), undefined)).toMatchObject({ row: { decidedBy: `standing:${a.id}` } });
    // As another process would record it: a grant for another vendor, unseen by this one.
    const b = randomUUID();
    await h.sql`insert into standing_approvals (id, agent_id, action_type, route, granted_by, granted_via, created_from, bounds, created_at, expires_at, max_count, max_spend_micros)
      select ${b}, agent_id, action_type, route, granted_by, granted_via, ${randomUUID()}, jsonb_set(bounds, '{equal,vendor}', '"v-unseen"'), created_at, expires_at, max_count, max_spend_micros
      from standing_approvals where id = ${a.id}`;
    now = new Date(now.getTime() + CANDIDATES_TTL_MS);
    // The last look's candidates (A) are tried first and do not cover it; the fresh look's B does.
    expect(await intake(ports, purchase(300, { vendor: 'v-unseen' }), undefined)).toMatchObject({ row: { status: 'approved', decidedBy: `standing:${b}` } });
    expect(await intake(ports, purchase(300, { vendor: 'v-seen' }), undefined)).toMatchObject({ row: { decidedBy: `standing:${a.id}` } });
  });

  it('counts a retried request once: the same escalation id keeps its one use', async () => {
    // An agent without a per-task cap: the retry's own earlier spend must not trip `task_budget`.
    const s = await grant('v-retry', { count: '3' }, 'procurement-tight');
    now = new Date(s.created_at.getTime() + 60_000);
    const e = purchase(300, { vendor: 'v-retry', agentId: 'procurement-tight' });
    const first = await intake(ports, e, undefined);
    // As if the process died after the claim and before the row: the row goes, the use stays.
    await h.sql`delete from escalations where id = ${e.id}`;
    const again = await intake(ports, e, undefined);
    expect(first).toMatchObject({ row: { status: 'approved' } });
    expect(again).toMatchObject({ row: { status: 'approved', decidedBy: `standing:${s.id}` } });
    expect((await usesOf(s.id)).used_count).toBe(1);
  });

  it('counts no use for a request whose id is already recorded: the recorded answer stands, and a different request under that id is refused', async () => {
    const s = await grant('v-reused', { count: '3' }, 'procurement-tight');
    now = new Date(s.created_at.getTime() + 60_000);
    // Outside the bounds ($500 > $400): recorded as pending, for a person.
    const outside = purchase(500, { vendor: 'v-reused', agentId: 'procurement-tight' });
    expect(await intake(ports, outside, undefined)).toMatchObject({ row: { status: 'pending' } });
    // A covered request under the same id: its claim overlaps the id's look-up, and is given back.
    const reused = { ...purchase(300, { vendor: 'v-reused', agentId: 'procurement-tight' }), id: outside.id };
    expect(await intake(ports, reused, undefined)).toMatchObject({ kind: 'rejected', errors: [{ path: 'id' }] });
    expect(await intake(ports, outside, undefined)).toMatchObject({ kind: 'accepted', fresh: false, row: { status: 'pending' } });
    expect((await usesOf(s.id)).used_count).toBe(0);
    expect(await h.sql`select 1 from standing_approval_uses where escalation_id = ${outside.id}`).toHaveLength(0);
  });
});
