import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { APPROVER, APPROVER_2, GENERAL_CHANNEL, OWNER, SIGNING_SECRET, exampleConfigText, makeEscalation, makePurchase, startHarness, type Harness } from '../support/harness.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from '../support/slack-signing.js';
import { REDIS_URL, eventually } from '../support/services.js';
import type { StoredMessage } from '../support/fake-slack.js';
import { approvedDigest, requestDigest } from '../../src/domain/digest.js';
import { parseEscalation } from '../../src/domain/escalation.js';
import { approvedParams } from '../../src/client/index.js';
import type { DecisionMessage } from '../../src/domain/decision.js';
import { Queue } from 'bullmq';
import { lateClickJobId } from '../../src/queue/late-click.js';
import { NOTIFY_QUEUE } from '../../src/queue/names.js';

// The example config, where purchases.create marks amountUsd editable, plus a rule above $1,000 that
// the $250 rule's approvers were never asked about, and the owner among the default route's approvers.
const config = exampleConfigText
  .replace(
    `            - when: { param: vendor, in: [unknown, unvetted] }`,
    `            - when: { param: amountUsd, gt: 1000 }
              tier: restricted
              reason: purchase over $1,000
            - when: { param: vendor, in: [unknown, unvetted] }`,
  )
  .replace('users: [U0APPROVER1, U0APPROVER2]', `users: [U0APPROVER1, U0APPROVER2, ${OWNER}]`);

let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot), { config });

type Button = { type: string; action_id: string; value: string };
const buttonsOf = (card: { blocks?: unknown[] }) => (card.blocks as Array<{ type: string; elements?: Button[] }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
const valueOf = (card: StoredMessage) => buttonsOf(card).find((b) => b.action_id === 'countersign.approve')!.value;

/** Submits the Edit and approve modal as Slack would: values per param, as number inputs unless given whole. */
function submitEdit(user: string, card: StoredMessage, values: Record<string, string>) {
  const [id, digest] = valueOf(card).split(':');
  const payload = viewSubmissionPayload({
    userId: user,
    callbackId: 'countersign.edit_approve_submit',
    privateMetadata: JSON.stringify({ id, digest, channel: GENERAL_CHANNEL }),
    values: Object.fromEntries(Object.entries(values).map(([name, v]) => [`edit:${name}`, { value: { type: 'number_input', value: v } }])),
  });
  return postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
}

async function pendingPurchase(amountUsd: number, extra: Parameters<typeof makePurchase>[1] = {}) {
  const e = makePurchase(amountUsd, { callback: { url: cb.url }, ...extra });
  await h.enqueue(e);
  return { e, card: await h.card(e.id) };
}

const status = async (id: string) => (await h.sql<{ status: string }[]>`select status from escalations where id = ${id}`)[0]!.status;
const eventsOf = (id: string, type: string) => h.sql<{ actor: string; data: Record<string, unknown> }[]>`select actor, data from events where escalation_id = ${id} and type = ${type} order by id`;

describe('Edit and approve', () => {
  it('is offered only for actions whose policy marks params editable, and its modal has exactly those fields, pre-filled', async () => {
    const refund = makeEscalation();
    await h.enqueue(refund);
    const refundCard = await h.card(refund.id);
    expect(buttonsOf(refundCard).map((b) => b.action_id)).not.toContain('countersign.edit_approve');

    const { e, card } = await pendingPurchase(400);
    const ids = buttonsOf(card).map((b) => b.action_id);
    // Beside the approvals, before Deny… (Approve and allow similar… may sit between).
    expect(ids[0]).toBe('countersign.approve');
    expect(ids.indexOf('countersign.edit_approve')).toBe(ids.indexOf('countersign.deny') - 1);
    await h.click(APPROVER, 'countersign.edit_approve', card, GENERAL_CHANNEL);
    const open = await h.fake.waitFor((c) => c.method === 'views.open' && JSON.stringify(c.args.view).includes(e.id));
    const view = open.args.view as { callback_id: string; blocks: Array<{ type: string; block_id?: string; element?: Record<string, unknown> }> };
    expect(view.callback_id).toBe('countersign.edit_approve_submit');
    const inputs = view.blocks.filter((b) => b.type === 'input');
    expect(inputs.map((b) => b.block_id)).toEqual(['edit:amountUsd']);
    expect(inputs[0]!.element).toMatchObject({ type: 'number_input', initial_value: '400', is_decimal_allowed: true, min_value: '0' });
  });

  it('approves the edited amount: the agent gets the edited params and both digests, the row and the audit keep both versions, the card shows the diff', async () => {
    const { e, card } = await pendingPurchase(400);
    const res = await submitEdit(APPROVER, card, { amountUsd: '199.5' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');

    const asked = requestDigest((parseEscalation(e) as { ok: true; escalation: Parameters<typeof requestDigest>[0] }).escalation);
    const approved = approvedDigest(asked, { amountUsd: 199.5 });
    expect(approved).not.toBe(asked);
    const expected = { edited: true, editedParams: { amountUsd: 199.5 }, requestDigest: asked, approvedDigest: approved };

    const got = await cb.waitFor(e.id);
    expect(got.json).toMatchObject({ status: 'approved', proceed: true, requestDigest: asked, approved: expected });
    const message = await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
    expect(message.approved).toEqual(expected);
    expect(approvedParams(e, message)).toEqual({ amountUsd: 199.5, vendor: 'acme' });
    // Asking again answers from the record, with the approval in it (the job's answer, over HTTP).
    const again = await fetch(`${h.baseUrl}/api/authorize`, { method: 'POST', headers: { authorization: 'Bearer test-api-token', 'content-type': 'application/json' }, body: JSON.stringify(e) });
    expect(await again.json()).toMatchObject({ decision: 'allow', code: 'duplicate', approved: expected });

    const [row] = await h.sql`select status, decided_by, approved_params, approved_digest from escalations where id = ${e.id}`;
    expect(row).toEqual({ status: 'approved', decided_by: APPROVER, approved_params: { amountUsd: 199.5, vendor: 'acme' }, approved_digest: approved });
    const [made] = await eventsOf(e.id, 'decision_made');
    expect(made!.data).toMatchObject({ status: 'approved', digest: asked, edited: { from: { amountUsd: 400 }, to: { amountUsd: 199.5 }, approvedDigest: approved } });

    const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    expect(JSON.stringify(update.args.blocks)).toContain('*Approved with edits:* *amountUsd* ~$400.00~ → $199.50');

    const polled = await fetch(`${h.baseUrl}/api/escalations/${e.id}`, { headers: { authorization: 'Bearer test-api-token' } });
    expect(((await polled.json()) as DecisionMessage).approved).toEqual(expected);
  });

  it('refuses, on the field, an edit that raises the amount under a rule the approver was not asked about, and decides nothing', async () => {
    const { e, card } = await pendingPurchase(400);
    const res = await submitEdit(APPROVER, card, { amountUsd: '1500' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(body.errors['edit:amountUsd']).toContain('purchase over $1,000');
    expect(await status(e.id)).toBe('pending');
    const [refused] = await eventsOf(e.id, 'decision_refused');
    expect(refused).toMatchObject({ actor: APPROVER, data: { kind: 'approve', reason: 'edit_not_approvable', rule: 'policy.agents[1].actions[0].rules[1]', edited: { from: { amountUsd: 400 }, to: { amountUsd: 1500 } } } });
    expect(await eventsOf(e.id, 'decision_made')).toEqual([]);
  });

  it('refuses an edit the policy denies outright (a refund over $5,000 goes through finance)', async () => {
    // The support agent's refunds are not editable in the example: this config marks them so.
    const cfg = config.replace('        - action: payments.refund\n          tier: supervised\n', '        - action: payments.refund\n          tier: supervised\n          editable: [amountUsd]\n');
    const g = await startHarness({ config: cfg });
    try {
      const e = makeEscalation({ action: { type: 'payments.refund', params: { orderId: '#4521', amountUsd: 600, currency: 'USD' }, reversible: false } });
      await g.enqueue(e);
      const card = await g.card(e.id);
      const [id, digest] = buttonsOf(card).find((b) => b.action_id === 'countersign.approve')!.value.split(':');
      const payload = viewSubmissionPayload({ userId: APPROVER, callbackId: 'countersign.edit_approve_submit', privateMetadata: JSON.stringify({ id, digest, channel: 'C0REFUNDS1' }), values: { 'edit:amountUsd': { value: { type: 'number_input', value: '6000' } } } });
      const res = await postSigned(`${g.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
      const body = (await res.json()) as { errors: Record<string, string> };
      expect(body.errors['edit:amountUsd']).toMatch(/^Policy denies payments.refund with this value: refunds over \$5,000 go through finance/);
      expect((await g.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
    } finally {
      await g.close();
    }
  });

  it('refuses a forged submission that edits a param the policy does not mark editable', async () => {
    const { e, card } = await pendingPurchase(400);
    const res = await submitEdit(APPROVER, card, { amountUsd: '300', vendor: 'unvetted' });
    const body = (await res.json()) as { errors: Record<string, string> };
    expect(body.errors['edit:vendor']).toBe('This param is not editable for this action.');
    expect(await status(e.id)).toBe('pending');
    expect((await eventsOf(e.id, 'decision_refused'))[0]).toMatchObject({ data: { reason: 'not_editable' } });
  });

  it('names the field of each invalid value: negative, not a number, empty', async () => {
    const { e, card } = await pendingPurchase(400);
    for (const [value, message] of [
      ['-5', 'Must not be negative.'],
      ['abc', 'Must be a number, like 200 or 199.99.'],
      ['1e3', 'Must be a number, like 200 or 199.99.'],
      ['', 'Required: enter a number.'],
    ] as const) {
      const res = await submitEdit(APPROVER, card, { amountUsd: value });
      expect(((await res.json()) as { errors: Record<string, string> }).errors).toEqual({ 'edit:amountUsd': message });
    }
    expect(await status(e.id)).toBe('pending');
    // Typing mistakes are not refusals for the record.
    expect(await eventsOf(e.id, 'decision_refused')).toEqual([]);
  });

  it("refuses the owner's and a non-approver's Edit and approve, at the button and at the submit", async () => {
    const { e, card } = await pendingPurchase(400);
    await h.click(OWNER, 'countersign.edit_approve', card, GENERAL_CHANNEL);
    const ownerReply = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === OWNER);
    expect(String(ownerReply.args.text)).toContain('You own this agent');
    await h.click('U0STRANGER', 'countersign.edit_approve', card, GENERAL_CHANNEL);
    const strangerReply = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0STRANGER');
    expect(String(strangerReply.args.text)).toContain('You are not an approver for route `default`');
    expect(h.fake.callsTo('views.open').filter((c) => JSON.stringify(c.args.view).includes(e.id))).toEqual([]);

    // Forged submits, as if the modal had been opened anyway.
    await submitEdit(OWNER, card, { amountUsd: '100' });
    await submitEdit('U0STRANGER', card, { amountUsd: '100' });
    await eventually(async () => ((await eventsOf(e.id, 'decision_refused')).length >= 4 ? true : undefined), 'four refusals');
    const reasons = (await eventsOf(e.id, 'decision_refused')).map((r) => [r.actor, r.data.reason]);
    expect(reasons).toEqual([
      [OWNER, 'owner_cannot_approve'],
      ['U0STRANGER', 'not_an_approver'],
      [OWNER, 'owner_cannot_approve'],
      ['U0STRANGER', 'not_an_approver'],
    ]);
    expect(await status(e.id)).toBe('pending');
  });

  it('makes exactly one decision when Edit and approve races Approve and Deny', async () => {
    for (let round = 0; round < 3; round++) {
      const { e, card } = await pendingPurchase(400);
      const [id, digest] = valueOf(card).split(':');
      const deny = viewSubmissionPayload({ userId: APPROVER_2, callbackId: 'countersign.deny_reason', privateMetadata: JSON.stringify({ id, digest, channel: GENERAL_CHANNEL }), values: { reason: { reason_input: 'not this quarter' } } });
      const responses = await Promise.all([
        submitEdit(APPROVER, card, { amountUsd: '200' }),
        h.click(APPROVER_2, 'countersign.approve', card, GENERAL_CHANNEL),
        postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(deny)),
      ]);
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      const made = await eventsOf(e.id, 'decision_made');
      expect(made).toHaveLength(1);
      const [row] = await h.sql<{ status: string; approved_digest: string | null; approved_params: unknown }[]>`select status, approved_digest, approved_params from escalations where id = ${e.id}`;
      // The edit is stored if and only if the edit won.
      expect(row!.approved_digest !== null).toBe(made[0]!.data.edited !== undefined);
      expect(row!.approved_params !== null).toBe(made[0]!.data.edited !== undefined);
      const got = await cb.waitFor(e.id);
      expect(got.json.status).toBe(row!.status);
    }
  });

  it('approves as asked when nothing was changed: the agent is told it was not edited', async () => {
    const { e, card } = await pendingPurchase(400);
    await submitEdit(APPROVER, card, { amountUsd: '400' });
    const message = await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
    expect(message.approved).toMatchObject({ edited: false, editedParams: {} });
    expect(message.approved!.approvedDigest).toBe(message.requestDigest);
    const [row] = await h.sql`select approved_params, approved_digest from escalations where id = ${e.id}`;
    expect(row).toEqual({ approved_params: null, approved_digest: null });
  });

  it('is never queued as a late click when the database is slow: the approver sees it fail, and no job approves the request as asked', async () => {
    const { e, card } = await pendingPurchase(400);
    await eventually(async () => (await h.sql`select 1 from escalations where id = ${e.id} and card_state = 'posted'`).length || undefined, 'the card recorded');
    // Hold the row, as a slow database would: the guarded UPDATE waits.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holding = h.sql.begin(async (tx) => {
      await tx`select 1 from escalations where id = ${e.id} for update`;
      locked();
      await released;
    });
    await isLocked;
    const res = await submitEdit(APPROVER, card, { amountUsd: '300' });
    expect(res.status).not.toBe(200);
    const notify = new Queue(NOTIFY_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      expect(await notify.getJob(lateClickJobId({ escalationId: e.id, userId: APPROVER, kind: 'approve' }))).toBeUndefined();
    } finally {
      await notify.close();
    }
    release();
    await holding;
    // The commit that was waiting still stands, with its edit: never an approval as asked.
    const [row] = await eventually(async () => {
      const rows = await h.sql<{ status: string; approved_params: unknown }[]>`select status, approved_params from escalations where id = ${e.id} and status <> 'pending'`;
      return rows.length ? rows : undefined;
    }, 'the edit committed');
    expect(row).toEqual({ status: 'approved', approved_params: { amountUsd: 300, vendor: 'acme' } });
  });
});
