import { describe, expect, it } from 'vitest';
import { drawPositions } from '../../src/domain/sampling.js';
import type { EscalationInput } from '../../src/domain/escalation.js';
import { withBotAndCallbacks } from '../support/bot-hooks.js';
import { APPROVER, APPROVER_2, GENERAL_CHANNEL, SIGNING_SECRET, makeEscalation, type Harness, makePurchase } from '../support/harness.js';
import { blockActionsBody, blockActionsPayload, postSigned, slashCommandBody, viewSubmissionPayload } from '../support/slack-signing.js';
import type { StoredMessage } from '../support/fake-slack.js';
import { holdReply } from '../support/held-reply.js';
import { eventually } from '../support/services.js';

let h: Harness;
withBotAndCallbacks((bot) => ({ h } = bot));

const STRANGER = 'U0STRANGER1';
/** The fake Slack opens the bot's DM with U0APPROVER1 as D0APPROVER1. */
const APPROVER_DM = `D${APPROVER.slice(1)}`;

function crmRead(): EscalationInput {
  return makeEscalation({ confidence: 0.95, issueType: 'support', action: { type: 'crm.read', params: { customerId: 'C-1' }, reversible: true } });
}


const command = (text: string, user = APPROVER, channelId = GENERAL_CHANNEL) =>
  postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, slashCommandBody({ command: '/countersign', text, userId: user, channelId, responseUrl: h.fake.responseUrl }));

const buttonOf = (m: StoredMessage, actionId: string) =>
  (m.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>).flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);

const click = (user: string, channel: string, m: StoredMessage, actionId: string) =>
  postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    blockActionsBody(blockActionsPayload({ userId: user, channel, messageTs: m.ts, actionId, value: buttonOf(m, actionId)!.value })),
  );

const reviewCards = (channel: string) => h.fake.messages(channel).filter((m) => m.text.startsWith('Review') || m.text.startsWith('Reviewed'));

describe('batch review', () => {
  it('refuses a percent or a window out of range, naming it', async () => {
    await command('review all 0');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('Cannot draw that sample'));
    expect(String(reply.args.text)).toContain('percent must be a whole number from 1 to 100 (got 0)');
    await command('review all 5 120');
    const days = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).includes('(got 120)'));
    expect(String(days.args.text)).toContain('days must be a whole number from 1 to 90');
  });

  it('draws a reproducible sample, sends its cards by DM, records each verdict once and posts the error rate when complete', async () => {
    const actions = Array.from({ length: 20 }, crmRead);
    for (const e of actions) expect(await h.client.authorize(e)).toMatchObject({ decision: 'allow', status: 'allowed' });

    expect((await command('review support-agent 10% 7')).status).toBe(200);
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('Drew'));
    expect(String(reply.args.text)).toContain('Drew 2 of 20 executed actions by `support-agent` (10% of the last 7 days)');

    const [sample] = await h.sql`select * from review_samples where requested_by = ${APPROVER} and agent_id = 'support-agent'`;
    expect(sample).toMatchObject({ percent: 10, population: 20, size: 2, destination: 'dm' });
    expect(String(reply.args.text)).toContain(sample!.seed);
    const items = await h.sql`select escalation_id, agent_id, action_type, verdict from review_sample_items where sample_id = ${sample!.id} order by position`;
    expect(items.map((i) => i.action_type)).toEqual(['crm.read', 'crm.read']);

    // Reproducible: the recorded seed over the same window, ordered by id, picks the same actions.
    const population = await h.sql`select id from escalations where status in ('approved','allowed') and agent_id = 'support-agent'
      and coalesce(decided_at, created_at) >= ${sample!.window_from} and coalesce(decided_at, created_at) < ${sample!.window_to} order by id`;
    expect(population).toHaveLength(20);
    const redrawn = drawPositions(sample!.seed, population.length, 2).map((i) => population[i]!.id);
    expect(items.map((i) => i.escalation_id)).toEqual(redrawn);
    const [drawnEvent] = await h.sql`select actor, data from events where type = 'review_sample_drawn' and data->>'sampleId' = ${sample!.id}`;
    expect(drawnEvent).toMatchObject({ actor: APPROVER, data: { seed: sample!.seed, population: 20, size: 2 } });

    // The progress message, then the two cards, in the requester's DM.
    const cards = await eventually(async () => (reviewCards(APPROVER_DM).length === 2 ? reviewCards(APPROVER_DM) : undefined), 'two review cards in the DM');
    const progress = () => h.fake.messages(APPROVER_DM).find((m) => m.text.startsWith('Batch review:'))!;
    expect(progress().text).toBe('Batch review: 0 of 2 reviewed');
    expect(JSON.stringify(cards[0]!.blocks)).toContain(' · why: ');
    expect(JSON.stringify(cards[0]!.blocks)).toContain('No outcome reported');
    expect(JSON.stringify(cards[0]!.blocks)).toContain('Support Agent ran crm.read');
    expect(JSON.stringify(cards[0]!.blocks)).toContain(':white_check_mark: *Allowed by policy*');
    expect(buttonOf(cards[0]!, 'countersign.sample_incorrect')).toBeDefined();

    // Someone who neither asked for the sample nor approves on the route is refused, on the record.
    await click(STRANGER, APPROVER_DM, cards[0]!, 'countersign.sample_correct');
    const refused = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === STRANGER);
    expect(String(refused.args.text)).toContain('Only the person who asked for this sample');
    expect(await h.sql`select actor from events where type = 'review_verdict_refused'`).toEqual([{ actor: STRANGER }]);

    // The requester marks the first correct; a second click by a route approver finds it done.
    await click(APPROVER, APPROVER_DM, cards[0]!, 'countersign.sample_correct');
    await eventually(async () => (progress().text === 'Batch review: 1 of 2 reviewed' ? true : undefined), 'progress 1 of 2');
    await click(APPROVER_2, APPROVER_DM, cards[0]!, 'countersign.sample_correct');
    const already = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === APPROVER_2);
    expect(String(already.args.text)).toContain(`Already reviewed as correct by <@${APPROVER}>`);
    const updated = await eventually(async () => {
      const m = h.fake.message(APPROVER_DM, cards[0]!.ts)!;
      return m.text.startsWith('Reviewed correct') ? m : undefined;
    }, 'the first card updated');
    expect(buttonOf(updated, 'countersign.sample_correct')).toBeUndefined();

    // A route approver (not the requester) marks the second incorrect, with a note from the modal.
    await click(APPROVER_2, APPROVER_DM, cards[1]!, 'countersign.sample_incorrect');
    const modal = await h.fake.waitFor((c) => c.method === 'views.open' && (c.args.view as { callback_id?: string }).callback_id === 'countersign.sample_incorrect_note');
    const meta = (modal.args.view as { private_metadata: string }).private_metadata;
    const submit = viewSubmissionPayload({ userId: APPROVER_2, callbackId: 'countersign.sample_incorrect_note', privateMetadata: meta, values: { note: { note_input: 'Read the wrong customer record (jane.doe@example.com)' } } });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(submit))).status).toBe(200);

    const summary = await eventually(async () => h.fake.messages(APPROVER_DM).find((m) => m.text.startsWith('Batch review complete')), 'the summary');
    expect(summary.text).toBe('Batch review complete: error rate 50% (1 incorrect of 2 reviewed)');
    await eventually(async () => (progress().text === 'Batch review: 2 of 2 reviewed' ? true : undefined), 'progress 2 of 2');
    const verdicts = await h.sql`select verdict, note, reviewed_by from review_sample_items where sample_id = ${sample!.id} order by position`;
    expect(verdicts).toEqual([
      { verdict: 'correct', note: null, reviewed_by: APPROVER },
      { verdict: 'incorrect', note: 'Read the wrong customer record (j***@example.com)', reviewed_by: APPROVER_2 },
    ]);
    const events = await h.sql`select type, actor, data->>'verdict' as verdict from events where type in ('review_verdict', 'review_sample_completed') and (data->>'sampleId') = ${sample!.id} order by id`;
    expect(events).toEqual([
      { type: 'review_verdict', actor: APPROVER, verdict: 'correct' },
      { type: 'review_verdict', actor: APPROVER_2, verdict: 'incorrect' },
      { type: 'review_sample_completed', actor: 'system', verdict: null },
    ]);
    const done = await eventually(async () => {
      const [row] = await h.sql`select completed_at, summary_ts from review_samples where id = ${sample!.id}`;
      return row?.summary_ts ? row : undefined;
    }, 'the summary recorded');
    expect(done.completed_at).not.toBeNull();
    expect(done.summary_ts).toBe(summary.ts);

    // The summary names the redraw: the same seed and window end draw the same actions again.
    const redraw = /`(\/countersign review [^`]+)`/.exec(JSON.stringify(summary.blocks))![1]!;
    expect(redraw).toBe(`/countersign review support-agent 10% 7d seed:${sample!.seed} until:${new Date(sample!.window_to).toISOString()}`);
    await command(redraw.slice('/countersign '.length));
    const again = await eventually(async () => (await h.sql`select id from review_samples where seed = ${sample!.seed} and id <> ${sample!.id}`)[0], 'the redrawn sample');
    const redrawnItems = await h.sql`select escalation_id from review_sample_items where sample_id = ${again.id} order by position`;
    expect(redrawnItems.map((i) => i.escalation_id)).toEqual(items.map((i) => i.escalation_id));
  });

  it('tells the requester by DM when the bot cannot post in the channel, instead of retrying forever', async () => {
    h.fake.failWith('chat.postMessage', { channel: 'C0NOTIN001', error: 'not_in_channel' });
    await command('review support-agent 5 in:thread', APPROVER, 'C0NOTIN001');
    const dm = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === APPROVER && String(c.args.text).includes('could not post'));
    expect(String(dm.args.text)).toContain('I could not post your batch review in <#C0NOTIN001> (not_in_channel)');
    const [failed] = await eventually(async () => {
      const rows = await h.sql`select data from events where type = 'review_sample_post_failed'`;
      return rows.length ? rows : undefined;
    }, 'the failure recorded');
    expect(failed!.data).toMatchObject({ error: 'not_in_channel', channel: 'C0NOTIN001' });
  });

  it('posts the cards in a thread under the progress message when asked, through the per-channel pacer, and records one verdict from ten concurrent clicks', async () => {
    for (const amount of [10, 20, 30]) expect(await h.client.authorize(makePurchase(amount))).toMatchObject({ decision: 'allow' });
    await command('review procurement-agent 100 1 in:thread', APPROVER_2, GENERAL_CHANNEL);
    await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).includes('in a thread in this channel'));
    const thread = await eventually(async () => {
      const head = h.fake.messages(GENERAL_CHANNEL).find((m) => m.text === 'Batch review: 0 of 3 reviewed');
      const replies = head ? h.fake.messages(GENERAL_CHANNEL).filter((m) => m.thread_ts === head.ts) : [];
      return head && replies.length === 3 ? { head, replies } : undefined;
    }, 'three cards in the thread');
    expect(thread.replies.every((m) => m.text.startsWith('Review: Procurement Agent ran purchases.create'))).toBe(true);
    // The posts reserved their turn on the channel's shared pacing key.
    expect(await h.redis.exists(`${h.prefix}:pace:chat.postMessage:${GENERAL_CHANNEL}`)).toBe(1);

    // Ten concurrent clicks by the requester and a route approver: one verdict, one audit event.
    const target = thread.replies[0]!;
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => click(i % 2 ? APPROVER : APPROVER_2, GENERAL_CHANNEL, target, 'countersign.sample_correct')));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    const escalationId = buttonOf(target, 'countersign.sample_correct')!.value.split(':')[1]!;
    await eventually(async () => (h.fake.callsTo('chat.postEphemeral').filter((c) => c.args.channel === GENERAL_CHANNEL && String(c.args.text).startsWith('Already reviewed as correct')).length === 9 ? true : undefined), 'nine "already reviewed" replies');
    expect(await h.sql`select count(*)::int as n from events where type = 'review_verdict' and escalation_id = ${escalationId}`).toEqual([{ n: 1 }]);
    expect(await h.sql`select count(verdict)::int as n from review_sample_items where escalation_id = ${escalationId}`).toEqual([{ n: 1 }]);
  });

  it('shows a verdict given before the item card’s post was recorded, once it is', async () => {
    const p = makePurchase(41);
    expect(await h.client.authorize(p)).toMatchObject({ decision: 'allow' });
    // Slack shows the item's card, but its reply (with the ts the bot records) waits until the verdict is in.
    const held = holdReply(h.fake, 'chat.postMessage', (call) => String(call.args.text).startsWith('Review') && JSON.stringify(call.args).includes(p.id));
    try {
      await command('review procurement-agent 100 1 in:thread', APPROVER_2, GENERAL_CHANNEL);
      const card = await eventually(async () => h.fake.messages(GENERAL_CHANNEL).find((m) => m.text.startsWith('Review') && JSON.stringify(m.blocks).includes(p.id)), 'the item card');
      await click(APPROVER_2, GENERAL_CHANNEL, card, 'countersign.sample_correct');
      await eventually(async () => ((await h.sql`select 1 from review_sample_items where escalation_id = ${p.id} and verdict = 'correct'`).length ? true : undefined), 'the verdict');
      expect(await h.sql`select card_ts from review_sample_items where escalation_id = ${p.id}`).toEqual([{ card_ts: null }]);
      held.release();
      const updated = await eventually(async () => {
        const m = h.fake.message(GENERAL_CHANNEL, card.ts)!;
        return m.text.startsWith('Reviewed correct') ? m : undefined;
      }, 'the item card updated');
      expect(buttonOf(updated, 'countersign.sample_correct')).toBeUndefined();
    } finally {
      held.stop();
    }
  });

  it('never asks people to judge their own decision (four eyes): no buttons in their DM, a refusal in a thread', async () => {
    const base = makeEscalation();
    const e = makeEscalation({
      agent: { ...base.agent, id: 'billing-agent', name: 'Billing Agent' },
      issueType: 'payout',
      confidence: 0.95,
      action: { type: 'payments.payout', params: { amountUsd: 120 }, reversible: false },
    });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await h.click(APPROVER, 'countersign.approve', card, GENERAL_CHANNEL);
    expect((await h.client.waitForDecision(e.id, { timeoutMs: 5000 })).status).toBe('approved');

    // In a thread: the card says who decided, and refuses their verdict either way, before any note is asked for.
    await command('review billing-agent 100 1 in:thread', APPROVER_2, GENERAL_CHANNEL);
    const inThread = await eventually(async () => h.fake.messages(GENERAL_CHANNEL).find((m) => m.text.startsWith('Review: Billing Agent ran payments.payout')), 'the card in the thread');
    expect(JSON.stringify(inThread.blocks)).toContain(`Decided by <@${APPROVER}>: someone else reviews it (four eyes).`);
    await click(APPROVER, GENERAL_CHANNEL, inThread, 'countersign.sample_correct');
    const refused = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === APPROVER && String(c.args.text).startsWith('You decided this action yourself'));
    expect(refused.args.channel).toBe(GENERAL_CHANNEL);
    await click(APPROVER, GENERAL_CHANNEL, inThread, 'countersign.sample_incorrect');
    await eventually(async () => (h.fake.callsTo('chat.postEphemeral').filter((c) => c.args.user === APPROVER && String(c.args.text).startsWith('You decided this action yourself')).length === 2 ? true : undefined), 'the second refusal');
    expect(h.fake.callsTo('views.open').filter((c) => c.args.trigger_id && JSON.stringify(c.args.view).includes(e.id))).toEqual([]);
    expect(await h.sql`select actor, data->>'reason' as reason from events where type = 'review_verdict_refused' and escalation_id = ${e.id}`).toEqual([{ actor: APPROVER, reason: 'own_decision' }]);
    expect(await h.sql`select verdict from review_sample_items where escalation_id = ${e.id}`).toEqual([{ verdict: null }]);

    // Someone else may.
    await click(APPROVER_2, GENERAL_CHANNEL, inThread, 'countersign.sample_correct');
    await eventually(async () => ((await h.sql`select 1 from review_sample_items where escalation_id = ${e.id} and verdict = 'correct' and reviewed_by = ${APPROVER_2}`).length ? true : undefined), 'the verdict by another reviewer');

    // In the decider's own DM nobody else could judge it: no buttons, and the way to get it judged.
    await command('review billing-agent 100 1', APPROVER);
    const inDm = await eventually(async () => reviewCards(APPROVER_DM).find((m) => m.text.startsWith('Review: Billing Agent ran payments.payout')), 'the card in the DM');
    expect(buttonOf(inDm, 'countersign.sample_correct')).toBeUndefined();
    expect(JSON.stringify(inDm.blocks)).toContain('You decided this action, so you cannot review it (four eyes).');
  });
});
