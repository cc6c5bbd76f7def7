import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER_2, OWNER, startHarness, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';
import { escalationOf, sampleCases } from '../../src/sandbox/samples.js';
import { ADMIN, GRANTOR, PROCUREMENT_CHANNEL, buttonOf, purchase, standingConfig, submitGrant } from '../support/standing.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const explain = async (id: string) => (await run('./bin/countersign', ['explain', id], { cwd: ROOT, env: { ...process.env, DATABASE_URL: h.dbUrl } })).stdout;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: standingConfig, env: { LOG_LEVEL: process.env.BOT_LOG ?? 'silent' } });
});
afterAll(async () => {
  await h?.close();
});

/** A pending purchase's card, posted in the procurement channel. */
async function cardFor(e: ReturnType<typeof purchase>) {
  const answer = await h.client.authorize(e);
  expect(answer).toMatchObject({ decision: 'pending' });
  return h.card(e.id);
}

/** Grants a standing approval on a fresh $300 purchase of `agentId`; resolves with its row once committed. */
async function grant(vendor: string, fields: Parameters<typeof submitGrant>[3] = {}, agentId?: string) {
  const e = purchase(300, { vendor, ...(agentId ? { agentId } : {}) });
  const card = await cardFor(e);
  expect((await submitGrant(h, GRANTOR, card, fields)).status).toBe(200);
  const [row] = await eventually(async () => {
    const rows = await h.sql`select * from standing_approvals where created_from = ${e.id}`;
    return rows.length > 0 ? rows : undefined;
  }, 'the standing approval');
  return { e, card, row: row! };
}

describe('granting a standing approval', () => {
  it('offers "Approve and allow similar…" on a restricted request, which opens a modal pre-filled from the request', async () => {
    const e = purchase(300, { vendor: 'v-offers' });
    const card = await cardFor(e);
    expect(buttonOf(card, 'countersign.approve_similar')).toBeDefined();
    await h.click(GRANTOR, 'countersign.approve_similar', card, PROCUREMENT_CHANNEL);
    const open = await h.fake.waitFor((c) => c.method === 'views.open' && String(c.args.view && JSON.stringify(c.args.view)).includes(e.id));
    const view = open.args.view as { callback_id: string; blocks: Array<{ block_id?: string; element?: { initial_value?: string; initial_options?: Array<{ value: string }> } }> };
    expect(view.callback_id).toBe('countersign.standing_grant');
    const block = (id: string) => view.blocks.find((b) => b.block_id === id);
    expect(block('standing_hours')?.element?.initial_value).toBe('24');
    expect(block('standing_max:amountUsd')?.element?.initial_value).toBe('300');
    expect(block('standing_keep')?.element?.initial_options?.map((o) => o.value)).toEqual(['vendor', 'currency']);
    expect(block('standing_spend')).toBeDefined();
  });

  it('approves this request as Approve does, and later similar requests at once, in the grantor’s name', async () => {
    const { e, card, row } = await grant('v-approves', { max: { amountUsd: '400' }, count: '5', hours: '24' });
    const [decided] = await h.sql`select status, decided_by from escalations where id = ${e.id}`;
    expect(decided).toEqual({ status: 'approved', decided_by: GRANTOR });
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    const granted = await h.sql`select actor, data from events where escalation_id = ${e.id} and type = 'standing_granted'`;
    expect(granted).toHaveLength(1);
    expect(granted[0]).toMatchObject({ actor: GRANTOR, data: { standingId: row.id, maxCount: 5, bounds: { max: { amountUsd: 400 }, equal: { vendor: 'v-approves', currency: 'USD' } } } });
    expect(row).toMatchObject({ granted_by: GRANTOR, agent_id: 'procurement-agent', action_type: 'purchases.create', route: 'default', max_count: 5, used_count: 0 });
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(24 * 3_600_000);

    const later = purchase(380, { vendor: 'v-approves' });
    const answer = await h.client.authorize(later);
    expect(answer).toMatchObject({ decision: 'allow', status: 'approved', code: 'standing_approved' });
    expect(answer.reason).toContain(`standing approval ${row.id} granted by ${GRANTOR}`);
    expect(answer.reason).toContain('use 1 of 5');
    const [stored] = await h.sql`select status, decided_by, decision_reason from escalations where id = ${later.id}`;
    expect(stored).toMatchObject({ status: 'approved', decided_by: `standing:${row.id}` });
    const used = await h.sql`select type, actor, data from events where escalation_id = ${later.id} and type in ('standing_used', 'received') order by id`;
    expect(used.map((u) => u.type)).toEqual(['standing_used', 'received']);
    expect(used[1]!.data.policy.standing).toMatchObject({ id: row.id, grantedBy: GRANTOR, useNumber: 1, maxCount: 5 });
    // No card: nobody needs to look at it.
    expect(h.fake.calls.some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes(later.id))).toBe(false);
    // It counts against the budgets like any action that runs.
    const ledger = await h.sql`select usd_micros from spend_ledger where escalation_id = ${later.id}`;
    expect(ledger.map((l) => Number(l.usd_micros))).toEqual([380_000_000]);
    expect((await h.sql`select used_count, spent_micros from standing_approvals where id = ${row.id}`)[0]).toEqual({ used_count: 1, spent_micros: '380000000' });

    // `countersign explain` names the grantor, the scope and the use, for the later request and for the grant.
    const told = await explain(later.id);
    expect(told).toContain(`Approved at `);
    expect(told).toContain(`under standing approval ${row.id} granted by ${GRANTOR} when approving escalation ${e.id}`);
    expect(told).toContain('amountUsd ≤ 400, vendor = "v-approves", currency = "USD"; use 1 of 5');
    expect(told).toContain('Nobody: a standing approval covered it.');
    const granting = await explain(e.id);
    expect(granting).toContain(`${GRANTOR} also allowed similar requests: standing approval ${row.id}`);
    expect(granting).toContain('up to 5 requests');
    // Two CLI processes: slow on a loaded machine.
  }, 90_000);

  it('still sends a card for a request outside its bounds: a higher amount, another currency or vendor, another agent or action', async () => {
    const vendor = 'v-bounds';
    await grant(vendor, { max: { amountUsd: '400' } });
    for (const e of [
      purchase(401, { vendor }),
      purchase(300, { vendor, currency: 'EUR' }),
      purchase(300, { vendor: 'globex' }),
      purchase(300, { vendor, agentId: 'procurement-tight' }),
      purchase(300, { vendor, agentId: 'procurement-irreversible' }),
    ]) {
      const answer = await h.client.authorize(e);
      expect(answer, JSON.stringify(e.action)).toMatchObject({ decision: 'pending', status: 'pending' });
    }
  });

  it('still sends a request with a trigger to a person: low confidence, conflicting information', async () => {
    const vendor = 'v-triggers';
    await grant(vendor, { max: { amountUsd: '400' } });
    expect(await h.client.authorize(purchase(300, { vendor }))).toMatchObject({ code: 'standing_approved' });
    for (const e of [purchase(300, { vendor, confidence: 0.5 }), purchase(300, { vendor, conflictingInformation: true })]) {
      const answer = await h.client.authorize(e);
      expect(answer).toMatchObject({ decision: 'pending' });
      expect(answer.triggers.length).toBeGreaterThan(0);
      const card = await h.card(e.id);
      expect(buttonOf(card, 'countersign.approve_similar')).toBeUndefined();
    }
  });

  it('still counts against a hard budget cap: past it the request is refused, the agent paused, and the use given back', async () => {
    const vendor = 'v-budget';
    const { row } = await grant(vendor, { count: '10' }, 'procurement-tight');
    const tight = () => purchase(300, { vendor, agentId: 'procurement-tight' });
    // The granting request itself was approved by a person: it does not count against the agent's budget.
    expect(await h.client.authorize(tight())).toMatchObject({ decision: 'allow', code: 'standing_approved' });
    expect(await h.client.authorize(tight())).toMatchObject({ decision: 'allow', code: 'standing_approved' });
    // $600 of $700 spent: $300 more would pass the daily cap.
    const over = await h.client.authorize(tight());
    expect(over).toMatchObject({ decision: 'deny', code: 'budget_paused' });
    expect((await h.sql`select used_count from standing_approvals where id = ${row.id}`)[0]!.used_count).toBe(2);
    expect(await h.sql`select 1 from standing_approval_uses where standing_id = ${row.id}`).toHaveLength(2);
  });

  it('gives back a use claimed before the verdict when the verdict is not its to decide: a paused agent is refused and uses nothing', async () => {
    const vendor = 'v-paused';
    const { row } = await grant(vendor, { count: '10' }, 'procurement-tight-2');
    const tight = () => purchase(300, { vendor, agentId: 'procurement-tight-2' });
    // Two uses fill the daily cap; the third pauses the agent. Each is claimed beside the policy's reads.
    expect(await h.client.authorize(tight())).toMatchObject({ code: 'standing_approved' });
    expect(await h.client.authorize(tight())).toMatchObject({ code: 'standing_approved' });
    expect(await h.client.authorize(tight())).toMatchObject({ decision: 'deny', code: 'budget_paused' });
    // Paused now: the policy refuses before any standing approval may cover the request.
    const refused = tight();
    expect(await h.client.authorize(refused)).toMatchObject({ decision: 'deny', code: 'budget_paused' });
    expect((await h.sql`select used_count from standing_approvals where id = ${row.id}`)[0]!.used_count).toBe(2);
    expect(await h.sql`select 1 from standing_approval_uses where escalation_id = ${refused.id}`).toHaveLength(0);
  });
});

describe('the sandbox sample', () => {
  it('shows it: the first freight payout’s card offers it, and once granted the next payout is approved at once', async () => {
    const cases = sampleCases();
    const first = cases.find((c) => c.label.startsWith('billing: $1,200 weekly freight payout'))!;
    const second = cases[cases.indexOf(first) + 1]!;
    expect(second.afterPrevious).toBe(true);
    const e = escalationOf(first.case);
    const card = await cardFor(e);
    expect(buttonOf(card, 'countersign.approve_similar')).toBeDefined();
    await submitGrant(h, GRANTOR, card, { keep: ['supplier', 'currency', 'method'] });
    await eventually(async () => ((await h.sql`select 1 from standing_approvals where created_from = ${e.id}`).length > 0 ? true : undefined), 'the grant');
    expect(await h.client.authorize(escalationOf(second.case))).toMatchObject({ decision: 'allow', code: 'standing_approved' });
  });
});

describe('who may grant', () => {
  it('refuses the agent’s owner, even as an approver of the route: no modal, and a forged submission decides nothing', async () => {
    const e = purchase(300, { vendor: 'v-owner' });
    const card = await cardFor(e);
    await h.click(OWNER, 'countersign.approve_similar', card, PROCUREMENT_CHANNEL);
    const reply = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === OWNER && String(c.args.text).includes('You own this agent'));
    expect(reply).toBeDefined();
    await submitGrant(h, OWNER, card);
    await eventually(async () => ((await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'decision_refused'`).length >= 2 ? true : undefined), 'both refusals');
    expect((await h.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
    expect(await h.sql`select 1 from standing_approvals where created_from = ${e.id}`).toHaveLength(0);
  });

  it('refuses someone who is not an approver of the route', async () => {
    const e = purchase(300, { vendor: 'v-stranger' });
    const card = await cardFor(e);
    await submitGrant(h, 'U0STRANGER', card);
    const reply = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0STRANGER');
    expect(String(reply.args.text)).toContain('You are not an approver for route `default`');
    expect((await h.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
    expect(await h.sql`select 1 from standing_approvals where created_from = ${e.id}`).toHaveLength(0);
  });

  it('names the field of a bad value: too many hours, no count', async () => {
    const e = purchase(300, { vendor: 'v-fields' });
    const card = await cardFor(e);
    const res = await submitGrant(h, ADMIN, card, { hours: '48', count: '0' });
    const body = (await res.json()) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(body.errors.standing_hours).toContain('at most 24');
    expect(body.errors.standing_count).toContain('from 1 to 100');
    expect((await h.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
  });

  it('grants once: a second submission for the decided request changes nothing', async () => {
    const { e, card } = await grant('v-once');
    await submitGrant(h, APPROVER_2, card);
    await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === APPROVER_2 && String(c.args.text).startsWith('Already approved'));
    expect(await h.sql`select 1 from standing_approvals where created_from = ${e.id}`).toHaveLength(1);
    expect(await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'decision_made'`).toHaveLength(1);
  });
});

describe('what the policy forbids', () => {
  it('forbids it per agent (standing: false): no button, and a forged submission is refused', async () => {
    const e = purchase(300, { agentId: 'procurement-nostanding' });
    const card = await cardFor(e);
    expect(buttonOf(card, 'countersign.approve_similar')).toBeUndefined();
    const res = await submitGrant(h, GRANTOR, card);
    const body = (await res.json()) as { errors: Record<string, string> };
    expect(body.errors.standing_hours).toContain('forbids standing approvals for procurement-nostanding');
    expect((await h.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
    expect(await h.sql`select data from events where escalation_id = ${e.id} and type = 'standing_refused'`).toHaveLength(1);
  });

  it('forbids it per action (standing: false), and by default for an irreversible action', async () => {
    for (const e of [purchase(300, { agentId: 'procurement-irreversible', actionType: 'purchases.cancel' }), purchase(300, { vendor: 'v-irreversible', reversible: false })]) {
      const card = await cardFor(e);
      expect(buttonOf(card, 'countersign.approve_similar')).toBeUndefined();
      await submitGrant(h, GRANTOR, card);
      await eventually(async () => ((await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'standing_refused'`).length === 1 ? true : undefined), 'the refusal');
      expect((await h.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
    }
  });

  it('allows it for an irreversible action whose policy says standing: true', async () => {
    const e = purchase(300, { agentId: 'procurement-irreversible', reversible: false });
    const card = await cardFor(e);
    expect(buttonOf(card, 'countersign.approve_similar')).toBeDefined();
  });
});
