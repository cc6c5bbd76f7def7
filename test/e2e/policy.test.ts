import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import type { EscalationInput } from '../../src/domain/escalation.js';
import { APPROVER, makeEscalation, type Harness, makePurchase } from '../support/harness.js';
import { eventually } from '../support/services.js';

let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot));

/** The example escalation as a confident support agent's action of this type and params. */
function act(type: string, params: Record<string, unknown>, over: Partial<EscalationInput> = {}): EscalationInput {
  return makeEscalation({ confidence: 0.95, action: { type, params, reversible: true }, ...over });
}


const cardsFor = (id: string) => h.fake.callsTo('chat.postMessage').filter((c) => (c.args.metadata as { event_payload?: { escalation_id?: string } } | undefined)?.event_payload?.escalation_id === id);

describe('policy at intake', () => {
  it('lets an autonomous action run at once, logged, with no card', async () => {
    const e = act('crm.read', { customerId: 'C-1' });
    const answer = await h.client.authorize(e);
    expect(answer).toMatchObject({ decision: 'allow', status: 'allowed', tier: 'autonomous', code: 'policy_allowed', rule: 'policy.agents[0].actions[0]' });
    const [row] = await h.sql`select status, decided_by, tier, policy_rule from escalations where id = ${e.id}`;
    expect(row).toEqual({ status: 'allowed', decided_by: 'policy', tier: 'autonomous', policy_rule: 'policy.agents[0].actions[0]' });
    const [ev] = await h.sql`select data from events where escalation_id = ${e.id} and type = 'received'`;
    expect(ev!.data).toMatchObject({ policy: { outcome: 'allow', tier: 'autonomous' } });
    expect((await h.client.getDecision(e.id))?.proceed).toBe(true);
    expect(cardsFor(e.id)).toHaveLength(0);
  });

  it('denies an action an explicit rule forbids, naming the rule, and tells the callback', async () => {
    const e = act('payments.refund', { amountUsd: 6000 }, { callback: { url: cb.url } });
    const answer = await h.client.authorize(e);
    expect(answer).toMatchObject({ decision: 'deny', code: 'policy_denied', rule: 'policy.agents[0].deny[1]', reason: 'refunds over $5,000 go through finance, not agents' });
    expect((await cb.waitFor(e.id)).json).toMatchObject({ status: 'denied', proceed: false, decision: { by: 'policy', code: 'policy_denied', rule: 'policy.agents[0].deny[1]' } });
    expect(cardsFor(e.id)).toHaveLength(0);
  });

  it('denies an action missing from the allow list', async () => {
    expect(await h.client.authorize(act('shell.exec', { cmd: 'rm -rf /' }))).toMatchObject({ decision: 'deny', rule: 'policy.agents[0].actions' });
  });

  it('holds a restricted action for approval and says why on the card', async () => {
    const e = act('payments.refund', { amountUsd: 600 });
    expect(await h.client.authorize(e)).toMatchObject({ decision: 'pending', tier: 'restricted', rule: 'policy.agents[0].actions[3].rules[0]' });
    const card = await h.card(e.id);
    expect(JSON.stringify(card.blocks)).toContain('refund over $500: restricted');
  });

  it('sends even an autonomous action to a human when a trigger fires, with the trigger on the card', async () => {
    const e = act('crm.read', {}, { confidence: 0.62 });
    expect(await h.client.authorize(e)).toMatchObject({ decision: 'pending', tier: 'autonomous', triggers: [{ kind: 'low_confidence', message: 'confidence 0.62 is below 0.70' }] });
    expect(JSON.stringify((await h.card(e.id)).blocks)).toContain('confidence 0.62 is below 0.70');
  });

  it('escalates a task past its per-task cap', async () => {
    const e = act('crm.read', {}, { cost: { tokens: 900_000, usd: 5.4 } });
    expect((await h.client.authorize(e)).triggers).toContainEqual({ kind: 'task_budget', message: 'task spend $5.40 is past its $5.00 cap' });
  });

  it('counts repeated failures from outcome reports, not from the agent, and escalates the next attempt', async () => {
    const executionId = `exec-${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 3; i++) {
      const { id } = await h.client.reportOutcome({ version: 1, id: randomUUID(), executionId, agentId: 'support-agent', actionType: 'crm.read', success: false, error: 'timeout', cost: { tokens: 10, usd: 0.001 } });
      await eventually(async () => ((await h.sql`select 1 from outcomes where id = ${id}`).length ? true : undefined), 'outcome recorded');
    }
    const e = act('crm.read', {}, { executionId });
    expect((await h.client.authorize(e)).triggers).toContainEqual({ kind: 'repeated_failure', message: 'this step already failed 3 times without success' });
    // A success resets the streak.
    const ok = await h.client.reportOutcome({ version: 1, id: randomUUID(), executionId, agentId: 'support-agent', actionType: 'crm.read', success: true, cost: { tokens: 10, usd: 0.001 } });
    await eventually(async () => ((await h.sql`select 1 from outcomes where id = ${ok.id}`).length ? true : undefined), 'outcome recorded');
    expect(await h.client.authorize(act('crm.read', {}, { executionId }))).toMatchObject({ decision: 'allow' });
  });
});

describe('the supervised tier', () => {
  it('allows at once, posts a review card, and a reviewer marking it wrong sends the agent a compensate signal', async () => {
    const e = act('payments.refund', { amountUsd: 340 }, { callback: { url: cb.url } });
    expect(await h.client.authorize(e)).toMatchObject({ decision: 'allow', tier: 'supervised' });
    const first = await cb.waitFor(e.id);
    expect(first.json).toMatchObject({ status: 'allowed', proceed: true });

    const card = await h.card(e.id);
    expect(JSON.stringify(card.blocks)).toContain('countersign.review_wrong');
    await h.click(APPROVER, 'countersign.review_wrong', card);
    const open = await h.fake.waitFor((c) => c.method === 'views.open' && JSON.stringify(c.args.view).includes(e.id));
    const view = open.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('countersign.review_wrong_note');

    const { viewSubmissionPayload, blockActionsBody, postSigned } = await import('../support/slack-signing.js');
    const { SIGNING_SECRET } = await import('../support/harness.js');
    const payload = viewSubmissionPayload({ userId: APPROVER, callbackId: view.callback_id, privateMetadata: view.private_metadata, values: { reason: { reason_input: 'Refund was to the wrong customer.' } } });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload))).status).toBe(200);

    const compensate = await eventually(async () => cb.received.find((c) => c.json.escalationId === e.id && c.json.signal === 'compensate'), 'compensate callback');
    expect(compensate.json).toMatchObject({ review: { verdict: 'wrong', by: APPROVER, note: 'Refund was to the wrong customer.' } });
    const [ev] = await h.sql`select data from events where escalation_id = ${e.id} and type = 'review_made'`;
    expect(ev!.data).toMatchObject({ verdict: 'wrong', error: true });
    const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    expect(JSON.stringify(update.args.blocks)).toContain('marked *wrong*');
  });
});

describe('budgets', () => {
  it('never lets 200 concurrent purchases overspend the daily cap, then pauses the agent with an alert and a Resume button', async () => {
    // $500/day, and purchases over $250 need approval: spend $240 twice, leaving $20.
    for (const amount of [240, 240]) expect(await h.client.authorize(makePurchase(amount))).toMatchObject({ decision: 'allow' });
    const burst = Array.from({ length: 200 }, () => makePurchase(10));
    const answers = await Promise.all(burst.map((b) => h.client.authorize(b, { timeoutMs: 30_000 })));
    expect(answers.filter((a) => a.decision === 'allow')).toHaveLength(2);
    expect(answers.filter((a) => a.code === 'budget_paused').length).toBe(198);
    const [spent] = await h.sql`select sum(usd_micros)::bigint as micros from spend_ledger where agent_id = 'procurement-agent' and kind = 'action'`;
    expect(Number(spent!.micros)).toBe(500_000_000);

    const alert = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0GOVERN01' && String(c.args.text).includes('is paused'));
    const [paused] = await h.sql`select paused from agent_states where agent_id = 'procurement-agent'`;
    expect(paused!.paused).toBe(true);
    // While paused, even a cheap request is refused with budget_paused.
    expect(await h.client.authorize(makePurchase(1))).toMatchObject({ decision: 'deny', code: 'budget_paused' });

    const stored = h.fake.messages('C0GOVERN01').find((m) => m.text.includes('is paused'))!;
    // Resume asks first: which agent, the budget that paused it, and that it cannot be undone.
    const resume = (stored.blocks as Array<{ elements?: Array<{ action_id: string; confirm?: { title: { text: string }; text: { text: string } } }> }>).flatMap((b) => b.elements ?? []).find((el) => el.action_id === 'countersign.resume_agent')!;
    expect(resume.confirm!.title.text).toBe('Resume procurement-agent?');
    expect(resume.confirm!.text.text).toMatch(/`procurement-agent` starts acting again .*\$500\.00.*cannot be undone/);
    await h.click('U0STRANGER', 'countersign.resume_agent', stored, 'C0GOVERN01');
    await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0STRANGER' && String(c.args.text).includes('Only Countersign admins'));
    expect((await h.sql`select 1 from events where type = 'agent_resume_refused' and actor = 'U0STRANGER'`).length).toBe(1);

    await h.click(APPROVER, 'countersign.resume_agent', stored, 'C0GOVERN01');
    const resumed = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === stored.ts && JSON.stringify(c.args.blocks).includes(`was resumed* by <@${APPROVER}>`));
    // The header itself changes: nothing on the card still reads as a live pause, and no Resume button is left.
    expect(JSON.stringify(resumed.args.blocks)).not.toContain('is paused');
    expect(JSON.stringify(resumed.args.blocks)).not.toContain('countersign.resume_agent');
    expect((await h.sql`select resumed_by from agent_states where agent_id = 'procurement-agent'`)[0]!.resumed_by).toBe(APPROVER);
    // Resumed, but the cap still holds: with $0 of room even a cent is refused, and pauses it again.
    expect(await h.client.authorize(makePurchase(0.01))).toMatchObject({ code: 'budget_paused' });
    expect(alert.args.channel).toBe('C0GOVERN01');
  });

  it('rebuilds spend counters and pause flags from Postgres when Redis loses them', async () => {
    const keys = await h.redis.keys(`${h.prefix}:budget:*`);
    const flags = await h.redis.keys(`${h.prefix}:paused:*`);
    await h.redis.del(...keys, ...flags);
    await h.restart();
    // The daily cap is still spent ($500 of $500) and the agent still paused.
    expect(await h.client.authorize(makePurchase(0.01))).toMatchObject({ code: 'budget_paused' });
    const windows = await h.redis.keys(`${h.prefix}:budget:agent:procurement-agent:day:*`);
    expect(Number(await h.redis.get(windows[0]!))).toBe(500_000_000);
  });

  it('alerts at 80% of a cap, once', async () => {
    const alerts = await eventually(async () => {
      const rows = await h.sql`select data from events where type = 'budget_alert' and data->>'agentId' = 'procurement-agent'`;
      return rows.length >= 2 ? rows : undefined;
    }, 'budget alerts');
    const levels = alerts.map((r) => (r.data as { level: number }).level).sort();
    expect(levels).toEqual([0.8, 1]);
  });
});
