import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { APPROVER, REFUNDS_CHANNEL, SIGNING_SECRET, makeEscalation, type Harness } from '../support/harness.js';
import { blockActionsBody, blockActionsPayload, postSigned } from '../support/slack-signing.js';
import { eventually } from '../support/services.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot));

const HEADINGS = ['1. Input', '2. Reasoning', '3. Policy rule and triggers', '4. Who was paged', '5. Who decided, and why', '6. Outcome'];

const explain = (id: string) =>
  run('./bin/countersign', ['explain', id], { cwd: ROOT, env: { ...process.env, DATABASE_URL: h.dbUrl } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

/** An approved refund whose agent then reported the outcome. */
async function approvedAndReported() {
  const e = makeEscalation({ callback: { url: cb.url } });
  e.trigger.input = 'Customer jane.doe@example.com: my blender stopped working, refund order #4521.';
  await h.enqueue(e);
  const card = await h.card(e.id);
  await h.click(APPROVER, 'countersign.approve', card);
  await cb.waitFor(e.id);
  await h.client.reportOutcome({
    version: 1, id: randomUUID(), escalationId: e.id, executionId: e.executionId, agentId: e.agent.id, actionType: e.action.type,
    success: true, output: 'Refund re_123 issued to card 4111 1111 1111 1111', cost: { tokens: 900, usd: 0.02 },
  });
  await eventually(async () => ((await h.sql`select 1 from outcomes where escalation_id = ${e.id}`).length > 0 ? true : undefined), 'outcome recorded');
  return { e, card };
}

describe('the right to explanation', () => {
  it('countersign explain lays out input, reasoning, policy, paging, decision and outcome for an escalation id and for its execution id', async () => {
    const { e } = await approvedAndReported();
    const byId = await explain(e.id);
    expect(byId.code).toBe(0);
    const out = byId.stdout;
    const at = HEADINGS.map((hd) => out.indexOf(hd));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(out).toContain('Refund $340.00 for order #4521 [approved]');
    expect(out).toContain(`execution ${e.executionId}`);
    expect(out).toContain('Model: claude-sonnet-4 2025-05-14 · prompt support-v12 · tools stripe 2024-06-20, zendesk 1.8.0');
    expect(out).toContain('Trigger: user_request (zendesk ticket 88123): Customer j***@example.com: my blender stopped working, refund order #4521.');
    expect(out).toContain('Action: payments.refund (irreversible): Refund $340.00 for order #4521');
    expect(out).toContain('Cost so far: $0.41, 18,250 tokens');
    expect(out).toContain('outside the 30-day return window');
    expect(out).toContain('Confidence: 0.62');
    expect(out).toMatch(/Tier supervised by rule policy\.agents\[0\]\.actions\[\d\]/);
    expect(out).toMatch(/Trigger low_confidence: .*0\.62/);
    expect(out).toContain(`card posted to ${REFUNDS_CHANNEL}`);
    expect(out).toMatch(new RegExp(`Approved by ${APPROVER} at \\S+ under policy [0-9a-f]{16}`));
    expect(out).toContain('The agent was told to proceed.');
    expect(out).toMatch(/payments\.refund succeeded · output: Refund re_123 issued to card \[card ••••1111\] · cost \$0\.02, 900 tokens/);
    expect(out).not.toContain('jane.doe@example.com');

    const byExecution = await explain(e.executionId);
    expect(byExecution.code).toBe(0);
    expect(byExecution.stdout).toContain(e.id);
    expect(byExecution.stdout).toContain('6. Outcome');
  });

  it('explains a policy refusal, and exits 1 for an unknown id', async () => {
    const e = makeEscalation();
    e.action = { type: 'data.delete_customer', params: { customerId: 'c_42' }, reversible: false };
    await h.enqueue(e);
    await eventually(async () => ((await h.sql`select 1 from escalations where id = ${e.id}`).length > 0 ? true : undefined), 'recorded');
    const r = await explain(e.id);
    expect(r.stdout).toMatch(/Decided by policy at \S+ \(policy_denied\)/);
    expect(r.stdout).toContain('Nobody: policy decided without a person.');
    expect(r.stdout).toContain('The agent was told to not proceed.');
    const unknown = await explain(randomUUID());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no escalation or execution with id');
  });

  it('masks PII on the way out too, for rows stored before redaction at intake', async () => {
    const id = randomUUID();
    const request = { agent: { id: 'old-agent', name: 'Old Agent' }, action: { type: 'crm.read', params: { email: 'jane.doe@example.com' } }, reasoning: 'Called +14155550123.' };
    await h.sql`insert into escalations (id, status, execution_id, request, decided_by, decided_at) values (${id}, 'approved', 'exec-old', ${h.sql.json(request)}, 'U0APPROVER1', now())`;
    const r = await explain(id);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('j***@example.com');
    expect(r.stdout).toContain('Called [phone ••23].');
    expect(r.stdout).not.toMatch(/jane\.doe|4155550123/);
  });

  it('opens the same explanation in a modal when someone clicks Why? on a decided card', async () => {
    const { e, card } = await approvedAndReported();
    const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    const blocks = update.args.blocks as Array<{ block_id?: string; accessory?: { action_id: string; value: string } }>;
    const why = blocks.map((b) => b.accessory).find((a) => a?.action_id === 'countersign.why');
    expect(why).toBeDefined();

    const body = blockActionsBody(blockActionsPayload({ userId: 'U0STRANGER1', channel: REFUNDS_CHANNEL, messageTs: card.ts, actionId: why!.action_id, value: why!.value }));
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, body)).status).toBe(200);
    const opened = await h.fake.waitFor((c) => c.method === 'views.open' && JSON.stringify(c.args.view).includes(e.id));
    const view = opened.args.view as { title: { text: string }; blocks: Array<{ type: string; text?: { text: string } }> };
    expect(view.title.text).toBe('Why?');
    const text = view.blocks.map((b) => b.text?.text ?? '').join('\n');
    const at = ['*1. Input*', '*2. Reasoning*', '*3. Policy rule and triggers*', '*4. Who was paged*', '*5. Who decided, and why*', '*6. Outcome*'].map((hd) => text.indexOf(hd));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(text).toContain(`Approved by ${APPROVER}`);
    expect(text).toContain('[card ••••1111]');
    expect(text).not.toContain('jane.doe@example.com');
  });
});
