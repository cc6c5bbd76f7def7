import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { EscalationInput } from '../../src/domain/escalation.js';
import { plural, usd } from '../../src/domain/format.js';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { APPROVER, REFUNDS_CHANNEL, makeEscalation, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';

/**
 * The seed's log fields (timestamp, execution id, input, reasoning, the exact
 * call and params, output, model and versions, cost) plus the decision, the
 * decider, the policy version, the route and who was paged, for three
 * actions driven through the real queue: each must be in the audit trail
 * (events, escalation row, outcome) and in `countersign explain`.
 */

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot));

const explain = async (id: string) => (await run('./bin/countersign', ['explain', id], { cwd: ROOT, env: { ...process.env, DATABASE_URL: h.dbUrl } })).stdout;

type Ev = { id: number; type: string; actor: string; at: Date; execution_id: string | null; data: Record<string, any> };
type Row = Record<string, any>;

async function trail(id: string) {
  const [row] = await h.sql<Row[]>`select * from escalations where id = ${id}`;
  const events = await h.sql<Ev[]>`select id, type, actor, at, execution_id, data from events where escalation_id = ${id} order by id`;
  const outcomes = await h.sql<Row[]>`select * from outcomes where escalation_id = ${id} order by at`;
  const one = (type: string) => {
    const found = events.filter((e) => e.type === type);
    expect(found, `one ${type} event`).toHaveLength(1);
    return found[0]!;
  };
  return { row: row!, events, outcomes, one };
}

async function waitForEvent(id: string, type: string): Promise<void> {
  await eventually(async () => ((await h.sql`select 1 from events where escalation_id = ${id} and type = ${type}`).length > 0 ? true : undefined), `${type} of ${id}`, 20_000);
}

async function report(e: EscalationInput, output: string) {
  await h.client.reportOutcome({
    version: 1, id: randomUUID(), escalationId: e.id, executionId: e.executionId, agentId: e.agent.id, actionType: e.action.type,
    success: true, output, cost: { tokens: 900, usd: 0.02 },
  });
  await waitForEvent(e.id, 'outcome_reported');
}

/** Every seed field the agent sent, in the trail's received event and row, and in the explanation. */
function expectAgentFields(t: Awaited<ReturnType<typeof trail>>, e: EscalationInput, params: Record<string, unknown>, out: string) {
  const received = t.one('received');
  // Timestamp and unique execution id, on the row and on every event.
  expect(t.row.id).toBe(e.id);
  expect(t.row.execution_id).toBe(e.executionId);
  expect(t.row.created_at).toBeInstanceOf(Date);
  for (const ev of t.events) {
    expect(ev.at).toBeInstanceOf(Date);
    expect(ev.execution_id).toBe(e.executionId);
  }
  const req = received.data['request'];
  expect(req.trigger).toEqual(e.trigger);
  expect(req.reasoning).toBe(e.reasoning);
  expect(req.confidence).toBe(e.confidence);
  expect(req.action).toEqual({ ...e.action, params });
  expect(req.agent).toEqual(e.agent);
  expect(req.cost).toEqual(e.cost);
  expect(t.row.request).toEqual(req);

  expect(out).toMatch(/Received \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  expect(out).toContain(`escalation ${e.id} · execution ${e.executionId}`);
  expect(out).toContain(`Trigger: ${e.trigger.kind} (${e.trigger.source}): ${e.trigger.input}`);
  expect(out).toContain(e.reasoning);
  expect(out).toContain(`Action: ${e.action.type}`);
  // Postgres jsonb orders keys its own way: compare the params as values.
  expect(JSON.parse(/^ {3}Params: (.*)$/m.exec(out)?.[1] ?? 'null')).toEqual(params);
  expect(out).toContain('Model: claude-sonnet-4 2025-05-14 · prompt support-v12 · tools stripe 2024-06-20, zendesk 1.8.0');
  expect(out).toContain(`Cost so far: ${usd(e.cost!.usd)}, ${plural(e.cost!.tokens, 'token')}`);
}

/** The policy's own record: version and route on the received event and the row, and in the explanation. */
function expectPolicyAndRoute(t: Awaited<ReturnType<typeof trail>>, route: string, channel: string, out: string): string {
  const received = t.one('received');
  const version = received.data['policyVersion'] as string;
  expect(version).toMatch(/^[0-9a-f]{16,}$/);
  expect(t.row.policy_version).toBe(version);
  expect(received.data['route']).toBe(route);
  expect(received.data['channel']).toBe(channel);
  expect(t.row.route).toBe(route);
  expect(received.data['policy']).toMatchObject({ rule: expect.any(String), tier: expect.any(String), outcome: expect.any(String) });
  expect(out).toContain(`Policy version ${version} · route ${route} → channel ${channel}`);
  expect(out).toMatch(/Tier \w+ by rule policy\.agents\[0\]\.actions\[\d\]/);
  return version;
}

/** Who was paged: the card, with the approvers it asked, in the trail and the explanation. */
function expectPaged(t: Awaited<ReturnType<typeof trail>>, out: string) {
  const posted = t.one('card_posted');
  expect(posted.data).toMatchObject({ channel: REFUNDS_CHANNEL, approvers: { users: [APPROVER] } });
  expect(out).toContain(`card posted to ${REFUNDS_CHANNEL} for its approvers (${APPROVER})`);
}

describe('complete audit records', () => {
  // 90 s: three `countersign explain` processes (tsx each) and a 4 s deadline; under load, starting a CLI takes seconds.
  it('an autonomous action that reports its outcome, a restricted action a person approved, and an expired one carry every seed field', async () => {
    // (a) Autonomous: runs at once under policy, then the agent reports what happened.
    const a = makeEscalation({ callback: { url: cb.url }, confidence: 0.95 });
    a.action = { type: 'crm.read', params: { customerId: 'c_42', fields: ['orders'] }, reversible: true, summary: 'Read the customer’s orders' };
    await h.enqueue(a);
    await cb.waitFor(a.id);
    await report(a, 'Read 3 orders for c_42');

    // (b) Restricted (a refund over $500): a person approves on the card, the agent reports.
    const b = makeEscalation({ callback: { url: cb.url } });
    b.action = { ...b.action, params: { orderId: '#4521', amountUsd: 800, currency: 'USD' }, summary: 'Refund $800.00 for order #4521' };
    await h.enqueue(b);
    const card = await h.card(b.id);
    expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
    await cb.waitFor(b.id);
    await report(b, 'Refund re_123 issued');

    // (c) Restricted, nobody decides: the deadline passes once the card is out.
    const c = makeEscalation({ callback: { url: cb.url }, deadline: new Date(Date.now() + 4000).toISOString() });
    c.action = { ...c.action, params: { orderId: '#4522', amountUsd: 900, currency: 'USD' }, summary: 'Refund $900.00 for order #4522' };
    await h.enqueue(c);
    await h.card(c.id);
    await waitForEvent(c.id, 'expired');
    const told = await cb.waitFor(c.id);
    expect(told.json).toMatchObject({ status: 'expired', proceed: false });
    await waitForEvent(c.id, 'agent_notified');

    // (a)
    {
      const t = await trail(a.id);
      const out = await explain(a.id);
      expectAgentFields(t, a, a.action.params ?? {}, out);
      const version = expectPolicyAndRoute(t, 'refunds', REFUNDS_CHANNEL, out);
      // Decision and decider: the policy, under that version.
      expect(t.row).toMatchObject({ status: 'allowed', decided_by: 'policy', tier: 'autonomous', decision_code: 'policy_allowed' });
      expect(t.one('received').data['policy']).toMatchObject({ outcome: 'allow', tier: 'autonomous' });
      expect(out).toMatch(/Decided by policy at \S+ \(policy_allowed\)/);
      // Who was paged: nobody, and the trail has no card.
      expect(t.events.filter((e) => e.type === 'card_posted' || e.type === 'paged')).toEqual([]);
      expect(out).toContain('Nobody: policy decided without a person.');
      // Output and the step's own cost.
      const rep = t.one('outcome_reported');
      expect(rep.actor).toBe(`agent:${a.agent.id}`);
      expect(rep.data).toMatchObject({ success: true, output: 'Read 3 orders for c_42', tokens: 900, costUsd: 0.02 });
      expect(t.outcomes[0]).toMatchObject({ output: 'Read 3 orders for c_42', cost_tokens: 900 });
      expect(Number(t.outcomes[0]!.cost_usd_micros)).toBe(20_000);
      expect(out).toContain('The agent was told to proceed.');
      expect(out).toMatch(/crm\.read succeeded · output: Read 3 orders for c_42 · cost \$0\.02, 900 tokens/);
      expect(version).toBe(t.row.policy_version);
    }
    // (b)
    {
      const t = await trail(b.id);
      const out = await explain(b.id);
      expectAgentFields(t, b, b.action.params ?? {}, out);
      const version = expectPolicyAndRoute(t, 'refunds', REFUNDS_CHANNEL, out);
      expect(t.row).toMatchObject({ status: 'approved', decided_by: APPROVER, tier: 'restricted', policy_reason: expect.stringContaining('refund over $500') });
      expectPaged(t, out);
      const made = t.one('decision_made');
      expect(made.actor).toBe(APPROVER);
      expect(made.data).toMatchObject({ status: 'approved', policyVersion: version, route: 'refunds', channel: REFUNDS_CHANNEL, digest: t.row.digest });
      expect(out).toMatch(new RegExp(`Approved by ${APPROVER} at \\S+ under policy ${version}`));
      expect(out).toContain('No reason given.');
      expect(t.one('outcome_reported').data).toMatchObject({ output: 'Refund re_123 issued', tokens: 900, costUsd: 0.02 });
      expect(out).toContain('The agent was told to proceed.');
      expect(out).toMatch(/payments\.refund succeeded · output: Refund re_123 issued · cost \$0\.02, 900 tokens/);
    }
    // (c)
    {
      const t = await trail(c.id);
      const out = await explain(c.id);
      expectAgentFields(t, c, c.action.params ?? {}, out);
      const version = expectPolicyAndRoute(t, 'refunds', REFUNDS_CHANNEL, out);
      expect(t.row).toMatchObject({ status: 'expired', fail_safe: true, tier: 'restricted', decision_reason: 'Deadline passed with no decision: fail-safe deny.' });
      expectPaged(t, out);
      // Decision and decider: the system's fail-safe, under the policy and route it applied.
      const expired = t.one('expired');
      expect(expired.actor).toBe('system');
      expect(expired.data).toMatchObject({ outcome: 'denied', failSafe: true, policyVersion: version, route: 'refunds', deadline: c.deadline });
      expect(out).toContain(`so the fail-safe outcome applied (denied), decided by system under policy ${version}.`);
      expect(out).toContain('Reason: Deadline passed with no decision: fail-safe deny.');
      // Output: nothing ran; what the agent was told, and when.
      expect(t.events.filter((e) => e.type === 'agent_notified').map((e) => e.data)).toContainEqual(expect.objectContaining({ via: 'callback', httpStatus: 204 }));
      expect(t.outcomes).toEqual([]);
      expect(out).toContain('The agent was told to not proceed.');
      expect(out).toMatch(/\S+: decision delivered to the agent/);
      expect(out).toContain('The agent has not reported an outcome.');
    }
  }, 90_000);
});
