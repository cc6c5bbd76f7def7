import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallbackServer } from '../support/callback-server.js';
import {
  APPROVER,
  OWNER,
  REFUNDS_CHANNEL,
  SIGNING_SECRET,
  exampleConfigText,
  makeEscalation,
  startHarness,
  type Harness,
} from '../support/harness.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from '../support/slack-signing.js';
import { eventually } from '../support/services.js';

/** Twenty approvers on the refunds route, for the concurrency test. */
const APPROVERS = Array.from({ length: 20 }, (_, i) => `U0CONC${String(i).padStart(4, '0')}`);
const config = exampleConfigText.replace('users: [U0APPROVER1]', `users: [U0APPROVER1, ${APPROVERS.join(', ')}]`);

let h: Harness;
let cb: Awaited<ReturnType<typeof startCallbackServer>>;

beforeAll(async () => {
  h = await startHarness({ config });
  cb = await startCallbackServer();
});
afterAll(async () => {
  await h?.close();
  await cb?.close();
});

const buttonValue = (card: { blocks?: unknown[] }) =>
  (card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>)
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === 'countersign.approve')!.value;

function submitDeny(user: string, value: string, reason: string) {
  const [id, digest] = value.split(':');
  const payload = viewSubmissionPayload({
    userId: user,
    callbackId: 'countersign.deny_reason',
    privateMetadata: JSON.stringify({ id, digest, channel: REFUNDS_CHANNEL }),
    values: { reason: { reason_input: reason } },
  });
  return postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
}

const ephemeralsFor = (users: string[]) => h.fake.callsTo('chat.postEphemeral').filter((c) => users.includes(String(c.args.user)));

describe('deciding', () => {
  it('records exactly one decision from 20 concurrent approve and deny clicks, and tells the other 19 who won', async () => {
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    // Clicks only once the bot holds the card's ts: this test counts the card's updates.
    const card = await h.card(e.id, { recorded: true });
    const value = buttonValue(card);

    const responses = await Promise.all(
      APPROVERS.map((u, i) => (i % 2 === 0 ? h.click(u, 'countersign.approve', card) : submitDeny(u, value, `deny from ${u}`))),
    );
    expect(responses.map((r) => r.status)).toEqual(APPROVERS.map(() => 200));

    await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && ephemeralsFor(APPROVERS).length >= 19);
    const made = await h.sql`select actor from events where escalation_id = ${e.id} and type = 'decision_made'`;
    expect(made).toHaveLength(1);
    const winner = made[0]!.actor as string;
    const ephemerals = ephemeralsFor(APPROVERS);
    expect(ephemerals).toHaveLength(19);
    expect(ephemerals.map((c) => c.args.user)).not.toContain(winner);
    for (const c of ephemerals) expect(String(c.args.text)).toMatch(new RegExp(`^Already (approved|denied) by <@${winner}> at `));

    const got = await cb.waitFor(e.id);
    expect(got.json.decision).toMatchObject({ by: winner });
    const [row] = await h.sql`select status, decided_by from escalations where id = ${e.id}`;
    expect(row).toMatchObject({ decided_by: winner });
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    // The only callback for this escalation: one decision, one delivery.
    await eventually(async () => ((await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'agent_notified' and data->>'via' = 'callback'`).length === 1 ? true : undefined), 'callback event');
    expect(cb.received.filter((c) => c.json.escalationId === e.id)).toHaveLength(1);
    expect(h.fake.callsTo('chat.update').filter((c) => c.args.ts === card.ts)).toHaveLength(1);
  });

  it('refuses and records a click from someone who is not an approver, naming the route of the card', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    await h.click('U0STRANGER', 'countersign.approve', card);
    const reply = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0STRANGER');
    expect(String(reply.args.text)).toContain('You are not an approver for route `refunds`');
    const rows = await h.sql`select type, actor, data from events where escalation_id = ${e.id} and type = 'decision_refused'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor: 'U0STRANGER', data: { reason: 'not_an_approver' } });
    const [row] = await h.sql`select status from escalations where id = ${e.id}`;
    expect(row!.status).toBe('pending');
  });

  it('names the route of the card when a stranger submits a deny reason', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    await submitDeny('U0STRANGR2', buttonValue(card), 'not mine to deny');
    const reply = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0STRANGR2');
    expect(String(reply.args.text)).toContain('You are not an approver for route `refunds`');
    expect((await h.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
  });

  it("refuses the agent owner's approval even when the owner is an approver", async () => {
    const cfg = exampleConfigText.replace('users: [U0APPROVER1]', `users: [U0APPROVER1, ${OWNER}]`);
    const own = await startHarness({ config: cfg });
    try {
      const e = makeEscalation();
      await own.enqueue(e);
      const card = await own.card(e.id);
      await own.click(OWNER, 'countersign.approve', card);
      const reply = await own.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === OWNER);
      expect(String(reply.args.text)).toContain('You own this agent');
      const rows = await own.sql`select data from events where escalation_id = ${e.id} and type = 'decision_refused'`;
      expect(rows[0]!.data).toMatchObject({ reason: 'owner_cannot_approve' });
      expect((await own.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
    } finally {
      await own.close();
    }
  });

  it('lets members of the route user group decide', async () => {
    const cfg = exampleConfigText.replace('# usergroup: S0FINANCE1', 'usergroup: S0FINANCE1');
    const g = await startHarness({ config: cfg });
    try {
      g.fake.setUsergroup('S0FINANCE1', ['U0GROUPMEM']);
      const e = makeEscalation();
      await g.enqueue(e);
      const card = await g.card(e.id);
      await g.click('U0GROUPMEM', 'countersign.approve', card);
      await g.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
      expect((await g.sql`select status, decided_by from escalations where id = ${e.id}`)[0]).toEqual({ status: 'approved', decided_by: 'U0GROUPMEM' });
    } finally {
      await g.close();
    }
  });

  it('opens a reason modal on Deny, and the reason reaches the agent', async () => {
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await h.click(APPROVER, 'countersign.deny', card);
    const open = await h.fake.waitFor((c) => c.method === 'views.open' && JSON.stringify(c.args.view).includes(e.id));
    const view = open.args.view as { callback_id: string; private_metadata: string; blocks: Array<{ block_id?: string }> };
    expect(view.callback_id).toBe('countersign.deny_reason');
    expect(view.blocks.some((b) => b.block_id === 'reason')).toBe(true);

    const res = await submitDeny(APPROVER, buttonValue(card), 'Outside policy: ask the customer for a photo first.');
    expect(res.status).toBe(200);
    const got = await cb.waitFor(e.id);
    expect(got.json).toMatchObject({ status: 'denied', proceed: false, decision: { by: APPROVER, reason: 'Outside policy: ask the customer for a photo first.' } });
    const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    expect(JSON.stringify(update.args.blocks)).toContain('Outside policy');
  });

  it('shows the whole context in the Details modal', async () => {
    const longReasoning = `${'The order history shows a pattern. '.repeat(300)}END-OF-REASONING`;
    const e = makeEscalation({ reasoning: longReasoning });
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(JSON.stringify(card.blocks)).not.toContain('END-OF-REASONING');
    await h.click(APPROVER, 'countersign.details', card);
    const open = await h.fake.waitFor((c) => c.method === 'views.open' && JSON.stringify(c.args.view).includes('END-OF-REASONING'));
    const view = open.args.view as { blocks: Array<{ text?: { text: string } }> };
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const all = view.blocks.map((b) => b.text?.text ?? '').join('');
    expect(all.split('The order history shows a pattern.').length - 1).toBe(300);
    for (const b of view.blocks) expect((b.text?.text ?? '').length).toBeLessThanOrEqual(3000);
  });

  it('renders injected mentions and links harmless on the card and in Details', async () => {
    const evil = 'Hi <!channel> and <!here> @channel, ask <@U123> or <!subteam^S123>: see <https://evil.example|bank login>';
    const e = makeEscalation({
      reasoning: evil,
      action: { type: 'payments.refund', params: { note: evil }, reversible: false, summary: evil },
      handoff: { attempted: evil, failed: evil, gathered: evil, recommendation: evil },
    });
    await h.enqueue(e);
    const card = await h.card(e.id);
    const rendered = JSON.stringify({ text: card.text, blocks: card.blocks });
    for (const bad of ['<!channel>', '<!here>', '<@U123>', '<!subteam^S123>', '<https://evil.example|bank login>']) {
      expect(rendered).not.toContain(bad);
    }
    expect(rendered).not.toMatch(/(^|[^\u2060])@channel/);
    expect(rendered).toContain('&lt;!channel&gt;');

    await h.click(APPROVER, 'countersign.details', card);
    const open = await h.fake.waitFor((c) => c.method === 'views.open' && JSON.stringify(c.args.view).includes(e.id));
    const details = JSON.stringify(open.args.view);
    for (const bad of ['<!channel>', '<!here>', '<@U123>', '<https://evil.example|bank login>']) expect(details).not.toContain(bad);
  });

  it('masks PII from agent text on the card', async () => {
    const e = makeEscalation({ reasoning: 'Customer card 4111 1111 1111 1111, SSN 123-45-6789, order #4521.' });
    await h.enqueue(e);
    const card = await h.card(e.id);
    const rendered = JSON.stringify(card.blocks);
    expect(rendered).not.toContain('4111 1111 1111 1111');
    expect(rendered).not.toContain('123-45-6789');
    expect(rendered).not.toContain('jane.doe@example.com');
    expect(rendered).toContain('#4521');
  });

  it('refuses a click whose card was built for a different request digest', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    const forged = { ...card, blocks: JSON.parse(JSON.stringify(card.blocks).replaceAll(/:[0-9a-f]{64}/g, `:${'0'.repeat(64)}`)) };
    await h.click(APPROVER, 'countersign.approve', forged);
    const reply = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && String(c.args.text).includes('no longer matches'));
    expect(reply.args.user).toBe(APPROVER);
    expect((await h.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
  });
});
