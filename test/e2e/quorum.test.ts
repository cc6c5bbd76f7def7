import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { EXPIRIES_QUEUE, NOTIFY_QUEUE } from '../../src/queue/names.js';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { API_TOKEN, APPROVER, APPROVER_2, GENERAL_CHANNEL, OWNER, SIGNING_SECRET, type Harness } from '../support/harness.js';
import type { StoredMessage } from '../support/fake-slack.js';
import { MANY, approve, approveHearing, blocksText, makeTransfer, quorumConfig, quorumRow } from '../support/quorum.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from '../support/slack-signing.js';
import { holdReply } from '../support/held-reply.js';
import { REDIS_URL, eventually } from '../support/services.js';

let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot), { config: quorumConfig });

const eventsOf = (id: string, type: string) => h.sql<Array<{ actor: string; data: Record<string, unknown> }>>`select actor, data from events where escalation_id = ${id} and type = ${type} order by id`;
/** The one callback for an escalation arrived, and its delivery was recorded once. */
async function oneCallback(id: string) {
  const got = await cb.waitFor(id);
  await eventually(async () => ((await h.sql`select 1 from events where escalation_id = ${id} and type = 'agent_notified' and data->>'via' = 'callback'`).length === 1 ? true : undefined), 'callback event');
  expect(cb.received.filter((c) => c.json.escalationId === id)).toHaveLength(1);
  return got;
}

describe('quorum: two approvals', () => {
  it('stays pending after the first approval, shows "1 of 2 approvals" on the card, and is approved by a second approver, with one callback naming both', async () => {
    const e = makeTransfer(25_000, cb.url);
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(blocksText(card)).toContain('0 of 2 approvals');
    expect((await quorumRow(h, e.id)).approvals_required).toBe(2);

    expect(await approveHearing(h, APPROVER, card, /recorded/)).toContain('Your approval is recorded: 1 of 2');
    expect(await quorumRow(h, e.id)).toMatchObject({ status: 'pending', approvals: [{ user: APPROVER }] });
    const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts && blocksText(c).includes('1 of 2 approvals'));
    expect(blocksText(update)).toContain(`1 of 2 approvals*: <@${APPROVER}>`);
    // Still open: the buttons stay until the quorum is reached, and the line of whom it asks stays too.
    expect(blocksText(update)).toContain('countersign.approve');
    expect(blocksText(update)).toContain('No on-call schedule for route `default`');
    const [recorded] = await eventsOf(e.id, 'approval_recorded');
    expect(recorded).toMatchObject({ actor: APPROVER, data: { approvals: 1, required: 2, approvers: [APPROVER] } });
    expect(await eventsOf(e.id, 'decision_made')).toHaveLength(0);

    await approve(h, APPROVER_2, card);
    const got = await oneCallback(e.id);
    expect(got.json).toMatchObject({ status: 'approved', proceed: true, decision: { by: APPROVER_2 }, approvals: { required: 2, by: [APPROVER, APPROVER_2] } });
    expect(await quorumRow(h, e.id)).toMatchObject({ status: 'approved', decided_by: APPROVER_2 });
    const made = await eventsOf(e.id, 'decision_made');
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ actor: APPROVER_2, data: { status: 'approved', approvers: [APPROVER, APPROVER_2], approvalsRequired: 2 } });
    const final = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts && blocksText(c).includes('*Approved*'));
    expect(blocksText(final)).toContain(`*Approved* by <@${APPROVER}>, <@${APPROVER_2}> (2 of 2)`);
    expect(blocksText(final)).not.toContain('countersign.approve');

    // The HTTP API's answer names both approvers too.
    const res = await fetch(`${h.baseUrl}/api/escalations/${e.id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(await res.json()).toMatchObject({ status: 'approved', approvals: { required: 2, by: [APPROVER, APPROVER_2] } });
  });

  it('shows a vote cast before the card’s post was recorded, once it is', async () => {
    const e = makeTransfer(26_000);
    // Slack shows the card, but its reply (with the ts the bot records) waits until the vote is in.
    const held = holdReply(h.fake, 'chat.postMessage', (call) => JSON.stringify(call.args).includes(e.id));
    try {
      await h.enqueue(e);
      const card = await h.card(e.id);
      expect(await approveHearing(h, APPROVER, card, /recorded/)).toContain('1 of 2');
      expect((await h.sql`select card_ts from escalations where id = ${e.id}`)[0]!.card_ts).toBeNull();
      held.release();
      const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts && blocksText(c).includes('1 of 2 approvals'));
      expect(blocksText(update)).toContain(`1 of 2 approvals*: <@${APPROVER}>`);
    } finally {
      held.stop();
    }
  });

  it('keeps the on-call line of a paged route on the card it updates after a vote', async () => {
    const e = { ...makeTransfer(35_000), urgency: 'high' as const };
    await h.enqueue(e);
    const card = await h.card(e.id);
    const oncall = /On call for route `payments-urgent`: <@U0PAYOPS00[12]>/.exec(blocksText(card))?.[0];
    expect(oncall, 'the card names the on-call payments person').toBeDefined();
    await approve(h, APPROVER, card);
    const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts && blocksText(c).includes('1 of 2 approvals'));
    expect(blocksText(update)).toContain(oncall);
  });

  it('counts the same person once, and never the agent’s owner', async () => {
    const e = makeTransfer(30_000);
    await h.enqueue(e);
    const card = await h.card(e.id);
    await approveHearing(h, APPROVER, card, /recorded: 1 of 2/);
    expect(await approveHearing(h, APPROVER, card, /already approved/)).toContain('You already approved this request (1 of 2)');
    expect(await approveHearing(h, OWNER, card, /own this agent/)).toContain('You own this agent');

    expect(await quorumRow(h, e.id)).toMatchObject({ status: 'pending', approvals: [{ user: APPROVER }] });
    expect(await eventsOf(e.id, 'approval_recorded')).toHaveLength(1);
    expect((await eventsOf(e.id, 'decision_refused')).map((r) => r.data.reason)).toEqual(['owner_cannot_approve']);
    const attempts = await eventsOf(e.id, 'decision_attempted');
    expect(attempts.map((a) => a.data.outcome)).toEqual(['vote_recorded', 'already_voted', 'refused']);
  });

  it('ends at once with one deny and its reason, after an approval', async () => {
    const e = makeTransfer(40_000, cb.url);
    await h.enqueue(e);
    const card = await h.card(e.id);
    await approveHearing(h, APPROVER, card, /recorded: 1 of 2/);

    const [id, digest] = String((card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>).flatMap((b) => b.elements ?? []).find((x) => x.action_id === 'countersign.approve')!.value).split(':');
    const payload = viewSubmissionPayload({
      userId: APPROVER_2,
      callbackId: 'countersign.deny_reason',
      privateMetadata: JSON.stringify({ id, digest, channel: GENERAL_CHANNEL }),
      values: { reason: { reason_input: 'Payroll is already funded for this month.' } },
    });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload))).status).toBe(200);

    const got = await oneCallback(e.id);
    expect(got.json).toMatchObject({ status: 'denied', proceed: false, decision: { by: APPROVER_2, reason: 'Payroll is already funded for this month.' }, approvals: { required: 2, by: [APPROVER] } });
    const final = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts && blocksText(c).includes('*Denied*'));
    expect(blocksText(final)).toContain(`(after *1 of 2 approvals*: <@${APPROVER}>)`);
    expect(blocksText(final)).toContain('Payroll is already funded');
    // A later approval finds it over.
    expect(await approveHearing(h, MANY[0]!, card, /^Already/)).toContain(`Already denied by <@${APPROVER_2}>`);
    expect(await eventsOf(e.id, 'decision_made')).toHaveLength(1);
  });

  it('expires fail-safe (denied) at its deadline with an approval short of the quorum', async () => {
    const e = makeTransfer(50_000, cb.url);
    await h.enqueue(e);
    const card = await h.card(e.id);
    await approveHearing(h, APPROVER, card, /recorded: 1 of 2/);

    // The deadline's own delayed job, run now.
    const expiries = new Queue(EXPIRIES_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      await (await expiries.getJob(`expire-${e.id}`))!.promote();
    } finally {
      await expiries.close();
    }
    const got = await oneCallback(e.id);
    expect(got.json).toMatchObject({ status: 'expired', proceed: false, decision: { failSafe: true, by: null }, approvals: { required: 2, by: [APPROVER] } });
    const final = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts && blocksText(c).includes('*Expired*'));
    expect(blocksText(final)).toContain(`(after *1 of 2 approvals*: <@${APPROVER}>)`);
    expect(blocksText(final)).not.toContain('countersign.approve');
    expect(await eventsOf(e.id, 'decision_made')).toHaveLength(0);
  });
});

/** Every card update queued so far has run: the card's last update is its final word. */
async function cardsSettled(): Promise<void> {
  const q = new Queue(NOTIFY_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
  try {
    await eventually(async () => {
      const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).every((n) => n === 0) ? true : undefined;
    }, 'notify jobs done');
  } finally {
    await q.close();
  }
}
const lastUpdateOf = (card: StoredMessage) => h.fake.callsTo('chat.update').filter((c) => c.args.ts === card.ts).at(-1)!;

describe('quorum races', () => {
  /** Replies to these users since call number `since` (earlier tests answered some of them too). */
  const alreadyTo = (users: string[], since: number) =>
    h.fake.calls.slice(since).filter((c) => c.method === 'chat.postEphemeral' && users.includes(String(c.args.user)));

  it('makes exactly one decision, one callback and one decision_made when 10 approvers click the second approval at once', async () => {
    const e = makeTransfer(60_000, cb.url);
    await h.enqueue(e);
    const card = await h.card(e.id);
    await approveHearing(h, APPROVER, card, /recorded: 1 of 2/);

    const clickers = MANY.slice(0, 10);
    const since = h.fake.calls.length;
    const responses = await Promise.all(clickers.map((u) => approve(h, u, card)));
    expect(responses.map((r) => r.status)).toEqual(clickers.map(() => 200));

    await oneCallback(e.id);
    const made = await eventsOf(e.id, 'decision_made');
    expect(made).toHaveLength(1);
    const winner = made[0]!.actor;
    expect(clickers).toContain(winner);
    expect(made[0]!.data.approvers).toEqual([APPROVER, winner]);
    expect(await quorumRow(h, e.id)).toMatchObject({ status: 'approved', decided_by: winner, approvals: [{ user: APPROVER }, { user: winner }] });
    expect(await eventsOf(e.id, 'approval_recorded')).toHaveLength(2);
    // The nine others are told who decided.
    const losers = clickers.filter((u) => u !== winner);
    await eventually(async () => (alreadyTo(losers, since).length >= 9 ? true : undefined), 'replies to the nine others');
    for (const c of alreadyTo(losers, since)) expect(String(c.args.text)).toContain(`Already approved by <@${APPROVER}> and <@${winner}>`);
    // A vote's card update that lost the race to the decision's is followed by one more: the card ends decided.
    await cardsSettled();
    expect(blocksText(lastUpdateOf(card))).toContain('*Approved*');
  });

  it('makes exactly one decision when 20 approvers click a 2-of-N escalation at once from zero approvals', async () => {
    const e = makeTransfer(70_000, cb.url);
    await h.enqueue(e);
    const card = await h.card(e.id);
    const since = h.fake.calls.length;
    const responses = await Promise.all(MANY.map((u) => approve(h, u, card)));
    expect(responses.map((r) => r.status)).toEqual(MANY.map(() => 200));

    await oneCallback(e.id);
    const made = await eventsOf(e.id, 'decision_made');
    expect(made).toHaveLength(1);
    const recorded = await eventsOf(e.id, 'approval_recorded');
    expect(recorded.map((r) => r.data.approvals)).toEqual([1, 2]);
    expect(made[0]!.data.approvers).toEqual(recorded.map((r) => r.actor));
    const row = await quorumRow(h, e.id);
    expect(row.status).toBe('approved');
    expect(row.approvals.map((a) => a.user)).toEqual(recorded.map((r) => r.actor));
    // One "recorded" reply, eighteen "already approved": the deciding click needs none.
    await eventually(async () => (alreadyTo(MANY, since).filter((c) => String(c.args.text).startsWith('Already approved')).length >= 18 ? true : undefined), 'replies');
    expect(alreadyTo(MANY, since).filter((c) => String(c.args.text).includes('recorded: 1 of 2'))).toHaveLength(1);
    await cardsSettled();
    expect(blocksText(lastUpdateOf(card))).toContain('*Approved*');
    expect(blocksText(lastUpdateOf(card))).not.toContain('countersign.approve');
  });
});
