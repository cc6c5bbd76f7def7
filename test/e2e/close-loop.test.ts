import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks } from '../support/bot-hooks.js';
import { APPROVER, OWNER, SIGNING_SECRET, exampleConfigText, makeEscalation, makePurchase, type Harness } from '../support/harness.js';
import { blockActionsBody, blockActionsPayload, postSigned } from '../support/slack-signing.js';
import { eventually } from '../support/services.js';
import type { FakeCall } from '../support/fake-slack.js';

const ONCALL = 'U0PAYOPS001';
const OUTSIDER = 'U0NOTAPPR02';
const GROUP = 'S0PAYOPS01';
const dmChannel = (user: string) => `D${user.slice(1)}`;

/**
 * The example config, its `refunds` route given an on-call schedule (ONCALL,
 * a member of the route's group, so they may decide) and a `purchases` route
 * whose on-call person is no approver. One person per rotation: on call on any date.
 */
function config(): string {
  const rotation = (users: string[]) => ({ users, kind: 'custom', intervalHours: 8760, handoff: '00:00', timezone: 'UTC', start: '2026-01-01' });
  const c = parse(exampleConfigText) as { slack: Record<string, unknown>; schedules?: object; routes: Array<Record<string, unknown>> };
  c.slack = { ...c.slack, postsPerSecondPerChannel: 1000, postBurst: 1000 };
  c.schedules = { ...c.schedules, payops: { layers: [{ name: 'main', rotation: rotation([ONCALL]) }] }, outsiders: { layers: [{ name: 'main', rotation: rotation([OUTSIDER]) }] } };
  Object.assign(c.routes.find((r) => r.name === 'refunds')!, { approvers: { users: [APPROVER], usergroup: GROUP }, schedules: ['payops'] });
  c.routes.unshift({ name: 'purchases', match: { issueTypes: ['procurement'] }, channel: 'C0PURCHASE', approvers: { users: [APPROVER] }, schedules: ['outsiders'] });
  return stringify(c);
}

let h: Harness;
withBotAndCallbacks((bot) => ({ h } = bot), { config: config() });

type Block = { type: string; text?: { text: string }; elements?: Array<{ action_id: string; value: string; confirm?: { title: { text: string }; text: { text: string } } }> };
const buttonsOf = (blocks: unknown) => (blocks as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
const dmTo = (user: string, id: string) => h.fake.waitFor((c: FakeCall) => c.method === 'chat.postMessage' && c.args.channel === user && JSON.stringify(c.args.blocks).includes(id));

describe('the on-call DM', () => {
  it('carries the title, the amount, the urgency, the deadline, a link to the card and the card’s buttons', async () => {
    h.fake.setUsergroup(GROUP, [ONCALL]);
    const e = makeEscalation({ urgency: 'critical' });
    await h.enqueue(e);
    const card = await h.card(e.id);
    const dm = await dmTo(ONCALL, e.id);
    const text = JSON.stringify(dm.args.blocks);
    expect(text).toContain('*Refund $340.00 for order #4521*');
    expect(text).toContain('*$340.00*');
    expect(text).toContain(':red_circle: *critical*');
    expect(text).toContain('decide by <!date^');
    // chat.getPermalink of the card, asked of Slack.
    expect(h.fake.callsTo('chat.getPermalink').some((c) => c.args.channel === 'C0REFUNDS1' && c.args.message_ts === card.ts)).toBe(true);
    expect(text).toContain(`<https://countersign-test.slack.com/archives/C0REFUNDS1/p${card.ts.replace('.', '')}|Open the card>`);
    const [approve, deny] = buttonsOf(dm.args.blocks);
    expect([approve!.action_id, deny!.action_id]).toEqual(['countersign.approve', 'countersign.deny']);
    expect(approve!.value).toBe(buttonsOf(card.blocks)[0]!.value);
    // Irreversible and critical: Approve asks first, in the DM as on the card.
    expect(approve!.confirm!.text.text).toContain('`payments.refund` of $340.00');
    expect(approve!.confirm!.text.text).toContain('cannot be undone');
  });

  it('gives an on-call person who may not decide the link, without buttons', async () => {
    const e = makePurchase(1450, { urgency: 'high' });
    await h.enqueue(e);
    const dm = await h.fake.waitFor((c: FakeCall) => c.method === 'chat.postMessage' && c.args.channel === OUTSIDER);
    expect(JSON.stringify(dm.args.blocks)).toContain('*$1,450.00*');
    expect(JSON.stringify(dm.args.blocks)).toContain('|Open the card>');
    expect(buttonsOf(dm.args.blocks)).toEqual([]);
  });
});

describe('closing the loop', () => {
  it('approved from the DM: the card, the DM and every approver’s App Home say so, and the record lists what was updated', async () => {
    h.fake.setUsergroup(GROUP, [ONCALL]);
    const e = makeEscalation({ urgency: 'critical' });
    await h.enqueue(e);
    const card = await h.card(e.id);
    const dm = await dmTo(ONCALL, e.id);
    const dmTs = String((await eventually(async () => h.fake.messages(dmChannel(ONCALL)).find((m) => JSON.stringify(m.blocks).includes(e.id)), 'the DM stored')).ts);
    const publishedBefore = h.fake.callsTo('views.publish').length;

    // The on-call person clicks Approve in the DM: the card's handler and checks, from the DM's channel.
    const approve = buttonsOf(dm.args.blocks)[0]!;
    const payload = blockActionsPayload({ userId: ONCALL, channel: dmChannel(ONCALL), messageTs: dmTs, actionId: approve.action_id, value: approve.value, blockId: `dm:${e.id}` });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload))).status).toBe(200);

    const cardUpdate = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    expect(JSON.stringify(cardUpdate.args.blocks)).toContain(`*Approved* by <@${ONCALL}>`);
    const dmUpdate = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.channel === dmChannel(ONCALL) && c.args.ts === dmTs);
    const resolved = JSON.stringify(dmUpdate.args.blocks);
    expect(resolved).toContain(`*Resolved: approved* by <@${ONCALL}>`);
    expect(resolved).not.toContain('waiting for your decision');
    expect(resolved).not.toContain('decide by');
    expect(buttonsOf(dmUpdate.args.blocks)).toEqual([]);
    expect(String(dmUpdate.args.text)).toContain('Resolved (approved)');

    const [event] = await eventually(async () => {
      const rows = await h.sql<Array<{ data: { status: string; updated: Array<{ channel: string; ts: string }>; homes: string[] } }>>`
        select data from events where escalation_id = ${e.id} and type = 'pings_resolved'`;
      return rows.length ? rows : undefined;
    }, 'pings_resolved');
    expect(event!.data).toMatchObject({ status: 'approved', updated: [{ channel: dmChannel(ONCALL), ts: dmTs }] });
    // Everyone who had it in their App Home list gets it published again; never the agent's owner.
    expect(event!.data.homes.sort()).toEqual([APPROVER, ONCALL].sort());
    // Published by a job per user, a moment later (shared with the other outcomes of that moment).
    const publishedSince = (c: { method: string }) => c.method === 'views.publish' && h.fake.callsTo('views.publish').indexOf(c as never) >= publishedBefore;
    for (const u of [APPROVER, ONCALL]) await h.fake.waitFor((c) => publishedSince(c) && c.args.user_id === u);
    const published = h.fake.callsTo('views.publish').slice(publishedBefore).map((c) => String(c.args.user_id));
    expect(published).toEqual(expect.arrayContaining([APPROVER, ONCALL]));
    expect(published).not.toContain(OWNER);
    const [made] = await h.sql<Array<{ actor: string; data: { channel: string } }>>`select actor, data from events where escalation_id = ${e.id} and type = 'decision_made'`;
    expect(made).toMatchObject({ actor: ONCALL, data: { channel: dmChannel(ONCALL) } });
  });

  it('waits out a 429 on the DM’s update, then updates it once, and records the loop closed once', async () => {
    h.fake.setUsergroup(GROUP, [ONCALL]);
    const e = makeEscalation({ urgency: 'critical' });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await dmTo(ONCALL, e.id);
    const dmTs = String((await eventually(async () => h.fake.messages(dmChannel(ONCALL)).find((m) => JSON.stringify(m.blocks).includes(e.id)), 'the DM stored')).ts);
    h.fake.fail429('chat.update', { channel: dmChannel(ONCALL), retryAfterSec: 1 });
    await h.click(APPROVER, 'countersign.approve', card);
    await eventually(async () => {
      const rows = await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'pings_resolved'`;
      return rows.length ? rows : undefined;
    }, 'pings_resolved after the retry');
    // The first update was refused with a 429; the retry went through, and nothing was updated twice.
    expect(h.fake.callsTo('chat.update').filter((c) => c.args.channel === dmChannel(ONCALL) && c.args.ts === dmTs)).toHaveLength(2);
    expect(h.fake.message(dmChannel(ONCALL), dmTs)!.text).toMatch(/^Resolved \(approved\)/);
    expect(await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'pings_resolved'`).toHaveLength(1);
  });

  it('records a DM that Slack no longer has as not updated, and still closes the loop', async () => {
    h.fake.setUsergroup(GROUP, [ONCALL]);
    const e = makeEscalation({ urgency: 'critical' });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await dmTo(ONCALL, e.id);
    const dmTs = String((await eventually(async () => h.fake.messages(dmChannel(ONCALL)).find((m) => JSON.stringify(m.blocks).includes(e.id)), 'the DM stored')).ts);
    // Every update in that DM fails until cleared: an earlier test's late update there cannot use up the fault.
    h.fake.failWith('chat.update', { channel: dmChannel(ONCALL), error: 'message_not_found', times: Infinity });
    try {
      await h.click(APPROVER, 'countersign.approve', card);
      const [event] = await eventually(async () => {
        const rows = await h.sql<Array<{ data: { updated: unknown[]; failed: unknown[] } }>>`select data from events where escalation_id = ${e.id} and type = 'pings_resolved'`;
        return rows.length ? rows : undefined;
      }, 'pings_resolved');
      expect(event!.data).toMatchObject({ updated: [], failed: [{ channel: dmChannel(ONCALL), ts: dmTs, error: 'message_not_found' }] });
    } finally {
      h.fake.clearFaults('chat.update');
    }
  });

  it('a stranger’s click in a forwarded DM is refused like on the card, and the DM stays live', async () => {
    h.fake.setUsergroup(GROUP, [ONCALL]);
    const e = makeEscalation({ urgency: 'critical' });
    await h.enqueue(e);
    const dm = await dmTo(ONCALL, e.id);
    const approve = buttonsOf(dm.args.blocks)[0]!;
    const payload = blockActionsPayload({ userId: 'U0STRANGER9', channel: dmChannel(ONCALL), messageTs: '1.000001', actionId: approve.action_id, value: approve.value });
    await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
    await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0STRANGER9');
    const [row] = await h.sql`select status from escalations where id = ${e.id}`;
    expect(row!.status).toBe('pending');
  });
});
