import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { HOME_JOB, NOTIFY_QUEUE } from '../../src/queue/names.js';
import type { FakeCall } from '../support/fake-slack.js';
import { APPROVER, GENERAL_CHANNEL, REFUNDS_CHANNEL, SIGNING_SECRET, exampleConfigText, makeEscalation, type Harness } from '../support/harness.js';
import { withBotAndCallbacks } from '../support/bot-hooks.js';
import { REDIS_URL, eventually } from '../support/services.js';
import { blockActionsBody, eventCallbackBody, homeActionsPayload, postSigned, viewSubmissionPayload } from '../support/slack-signing.js';

/**
 * Issue 16 §2: a burst into one channel. Slack's pace (1 post a second, a
 * burst of 3) with a digest past 5 waiting cards, brought up to date every second.
 */
const config = exampleConfigText.replace('  postBurst: 3\n', '  postBurst: 3\n  digest: { backlog: 5, updateSeconds: 1 }\n');
const BURST = 30;

let h: Harness;
withBotAndCallbacks((bot) => ({ h } = bot), { config });

const refund = () => makeEscalation();
/** The default route's channel. */
const general = () => makeEscalation({ issueType: 'other', labels: {} });

const metadataOf = (c: FakeCall) => c.args.metadata as { event_type: string; event_payload: Record<string, string> } | undefined;
const isDigestPost = (c: FakeCall) => c.method === 'chat.postMessage' && c.args.channel === REFUNDS_CHANNEL && metadataOf(c)?.event_type === 'countersign_digest';
const cardPostsIn = (channel: string) =>
  h.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === channel && metadataOf(c)?.event_type === 'countersign_escalation').map((c) => String((c.args.metadata as { event_payload: { escalation_id: string } }).event_payload.escalation_id));
const textOf = (channel: string, ts: string) => JSON.stringify(h.fake.message(channel, ts)?.blocks ?? []);

/** A click in App Home: a block_actions from the Home view, with no channel or message. */
const clickInHome = (user: string, actionId: string, value: string) =>
  postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(homeActionsPayload({ userId: user, actionId, value })));
const approveFromHome = (user: string, value: string) => clickInHome(user, 'countersign.approve', value);

type Block = { type: string; block_id?: string; text?: { text: string }; elements?: Array<{ action_id: string; value: string }> };
const blocksOf = (c: FakeCall) => (c.args.view as { blocks: Block[] }).blocks;
const buttonsOf = (c: FakeCall) => blocksOf(c).flatMap((b) => b.elements ?? []);
/** The next views.publish of `user`'s Home after `before` calls to it, whose blocks pass `ok`. */
const nextHome = (user: string, before: number, ok: (c: FakeCall) => boolean = () => true) =>
  h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === user && h.fake.callsTo('views.publish').indexOf(c) >= before && ok(c));

let members: Array<{ id: string; digest: string }> = [];
const pendingMembers = async () => {
  const rows = await h.sql`select id from escalations where status = 'pending' and id = any(${members.map((m) => m.id)}::uuid[])`;
  return members.filter((m) => rows.some((r) => r.id === m.id));
};
let digestTs = '';

describe('a burst into one channel', () => {
  it('becomes one digest message instead of a card each, while another channel’s card goes out', async () => {
    const burst = Array.from({ length: BURST }, refund);
    const other = general();
    await Promise.all(burst.map((e) => h.enqueue(e)));
    await h.enqueue(other);
    // The other channel is not held up by the burst's pace.
    await h.card(other.id);
    const ids = burst.map((e) => e.id);
    const settled = await eventually(async () => {
      const rows = await h.sql`select id, card_state, digest_id, digest from escalations where id = any(${ids}::uuid[])`;
      return rows.every((r) => r.card_state === 'posted' || r.card_state === 'digest') ? rows : undefined;
    }, 'every card of the burst posted or in the digest');
    const digested = settled.filter((r) => r.card_state === 'digest');
    members = digested.map((r) => ({ id: String(r.id), digest: String(r.digest) }));
    const digests = await h.sql`select id, ts from channel_digests where channel = ${REFUNDS_CHANNEL}`;
    expect(digests).toHaveLength(1);
    expect(digested.every((r) => r.digest_id === digests[0]!.id)).toBe(true);
    // Most of the burst is in the digest; a card is never both posted and in it.
    expect(digested.length).toBeGreaterThanOrEqual(BURST - 10);
    const posted = cardPostsIn(REFUNDS_CHANNEL).filter((id) => ids.includes(id));
    expect(posted.length + digested.length).toBe(BURST);
    expect(posted.filter((id) => members.some((m) => m.id === id))).toEqual([]);
    const post = await h.fake.waitFor(isDigestPost);
    expect(h.fake.calls.filter(isDigestPost)).toHaveLength(1);
    digestTs = (await eventually(async () => (await h.sql`select ts from channel_digests where channel = ${REFUNDS_CHANNEL} and ts is not null`)[0], 'the digest’s ts')).ts as string;
    expect(h.fake.messages(REFUNDS_CHANNEL).some((m) => m.ts === digestTs)).toBe(true);
    expect(String(post.args.text)).toMatch(/^\d+ × payments\.refund waiting: oldest \d+ s$/);
    // Kept up to date: it ends up counting every member.
    await eventually(async () => (textOf(REFUNDS_CHANNEL, digestTs).includes(`${members.length} × payments.refund waiting`) ? true : undefined), 'the digest counting every member');
    const audit = await h.sql`select count(*)::int as n from events where type = 'card_digested' and escalation_id = any(${members.map((m) => m.id)}::uuid[])`;
    expect(audit[0]!.n).toBe(members.length);
    expect(await h.sql`select 1 from events where type = 'digest_posted' and data ->> 'ts' = ${digestTs}`).toHaveLength(1);
  });

  it('lists the digest’s escalations in App Home, decided there by a signed click; the digest counts them handled', async () => {
    const opened = eventCallbackBody({ type: 'app_home_opened', user: APPROVER, channel: 'D0APPROVER1', tab: 'home' });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, opened, 'application/json')).status).toBe(200);
    const home = await h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === APPROVER && members.some((m) => JSON.stringify(c.args.view).includes(m.id)));
    const buttons = ((home.args.view as { blocks: Array<{ elements?: Array<{ action_id: string; value: string }> }> }).blocks ?? []).flatMap((b) => b.elements ?? []);
    const approve = buttons.find((b) => b.action_id === 'countersign.approve' && members.some((m) => b.value.startsWith(m.id)))!;
    const first = approve.value.slice(0, 36);
    expect((await approveFromHome(APPROVER, approve.value)).status).toBe(200);
    await eventually(async () => ((await h.sql`select status from escalations where id = ${first}`)[0]!.status === 'approved' ? true : undefined), 'the approval');
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === digestTs && JSON.stringify(c.args.blocks).includes('1 handled'));
  });

  it('pages App Home, the first to expire first: every escalation in the digest is reachable with Older →', async () => {
    const before = h.fake.callsTo('views.publish').length;
    await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, eventCallbackBody({ type: 'app_home_opened', user: APPROVER, channel: 'D0APPROVER1', tab: 'home' }), 'application/json');
    let page = await nextHome(APPROVER, before);
    const waiting = await h.sql`select id from escalations where status = 'pending' and route = 'refunds' order by deadline asc nulls last, created_at asc, id asc`;
    const [{ n: total }] = (await h.sql`select count(*)::int as n from escalations where status = 'pending' and route in ('refunds', 'default')`) as unknown as [{ n: number }];
    expect(total).toBeGreaterThan(25);
    expect(JSON.stringify(blocksOf(page))).toContain(`${total} approvals waiting for you* · 1–25, first to expire first`);
    const seen: string[] = [];
    for (let n = 1; ; n++) {
      const ids = buttonsOf(page).filter((b) => b.action_id === 'countersign.approve').map((b) => b.value.slice(0, 36));
      expect(ids.length).toBeLessThanOrEqual(25);
      expect(blocksOf(page).length).toBeLessThanOrEqual(100);
      seen.push(...ids);
      const older = buttonsOf(page).find((b) => b.action_id === 'countersign.home_page:older');
      if (!older) break;
      expect(n).toBeLessThan(10);
      const at = h.fake.callsTo('views.publish').length;
      expect((await clickInHome(APPROVER, older.action_id, older.value)).status).toBe(200);
      // The click's page: an App Home refreshed after an outcome meanwhile (page 1, by its own job) is not it.
      page = await nextHome(APPROVER, at, (c) => JSON.stringify(c.args.view).includes('countersign.home_page:newer'));
    }
    // The first to expire is the first shown; every member of the digest is on some page, once.
    expect(seen[0]).toBe(waiting[0]!.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(total);
    // Every member still waiting; the one approved above is not listed any more.
    const still = await pendingMembers();
    expect(still.length).toBe(members.length - 1);
    expect(still.every((m) => seen.includes(m.id))).toBe(true);
  });

  it('keeps the page a person turned to when App Home is refreshed after outcomes, and opening the tab starts again at the first', async () => {
    // The test above left the approver on the last page of their approvals.
    const notify = new Queue(NOTIFY_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      const at = h.fake.callsTo('views.publish').length;
      // What close-loop.ts enqueues after an outcome (scheduler.refreshHomes), for this approver.
      await notify.add(HOME_JOB, { userId: APPROVER });
      // A refresh queued by an earlier outcome may publish first, from the page it read before the person turned pages
      // (as in the test above): the one that keeps their page is awaited, and a refresh that reset it would never come.
      const refreshed = await nextHome(APPROVER, at, (c) => JSON.stringify(c.args.view).includes('countersign.home_page:newer'));
      expect(buttonsOf(refreshed).some((b) => b.action_id === 'countersign.home_page:newer')).toBe(true);
      expect(JSON.stringify(blocksOf(refreshed))).not.toContain(' · 1–25, first to expire first');
    } finally {
      await notify.close();
    }
    const at = h.fake.callsTo('views.publish').length;
    await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, eventCallbackBody({ type: 'app_home_opened', user: APPROVER, channel: 'D0APPROVER1', tab: 'home' }), 'application/json');
    // The open's own publish: a refresh queued by an earlier outcome may come first, still at the page it read.
    const opened = await nextHome(APPROVER, at, (c) => JSON.stringify(c.args.view).includes(' · 1–25, first to expire first'));
    expect(buttonsOf(opened).some((b) => b.action_id === 'countersign.home_page:newer')).toBe(false);
  });

  it('denies a digested escalation from App Home (Deny… opens its reason modal there), and answers a refused click in a modal', async () => {
    const [target, other] = await pendingMembers();
    expect((await clickInHome(APPROVER, 'countersign.deny', `${target!.id}:${target!.digest}`)).status).toBe(200);
    const modal = await h.fake.waitFor((c) => c.method === 'views.open' && (c.args.view as { callback_id?: string }).callback_id === 'countersign.deny_reason' && JSON.stringify(c.args.view).includes(target!.id));
    const meta = String((modal.args.view as { private_metadata: string }).private_metadata);
    const submit = viewSubmissionPayload({ userId: APPROVER, callbackId: 'countersign.deny_reason', privateMetadata: meta, values: { reason: { reason_input: 'Too many at once; check the batch first.' } } });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(submit))).status).toBe(200);
    await eventually(async () => ((await h.sql`select status from escalations where id = ${target!.id}`)[0]!.status === 'denied' ? true : undefined), 'the denial');
    const [made] = await h.sql`select data from events where escalation_id = ${target!.id} and type = 'decision_made'`;
    expect((made!.data as { channel: string }).channel).toBe(REFUNDS_CHANNEL);
    // Someone who is not an approver may not decide: told so in a modal (App Home has no channel for an ephemeral reply), and recorded.
    expect((await clickInHome('U0STRANGER1', 'countersign.deny', `${other!.id}:${other!.digest}`)).status).toBe(200);
    await h.fake.waitFor((c) => c.method === 'views.open' && (c.args.view as { close?: { text: string }; callback_id?: string }).callback_id === undefined && JSON.stringify(c.args.view).includes('You are not an approver'));
    const refused = await eventually(async () => (await h.sql`select data from events where escalation_id = ${other!.id} and type = 'decision_refused'`)[0], 'the refusal');
    expect(refused.data).toMatchObject({ kind: 'deny', channel: null });
    expect((await h.sql`select status from escalations where id = ${other!.id}`)[0]!.status).toBe('pending');
  });

  it('says so once every escalation in it is decided, and the channel gets cards of its own again', async () => {
    const rest = members.filter((m) => m.id !== members[0]!.id);
    for (const m of members) {
      const [row] = await h.sql`select status from escalations where id = ${m.id}`;
      if (row!.status === 'pending') expect((await approveFromHome(APPROVER, `${m.id}:${m.digest}`)).status).toBe(200);
    }
    expect(rest.length).toBeGreaterThan(0);
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === digestTs && String(c.args.text) === `All ${members.length} approvals from this burst handled`, 20_000);
    const [d] = await eventually(async () => {
      const rows = await h.sql`select closed_at, settled_at from channel_digests where channel = ${REFUNDS_CHANNEL} and settled_at is not null`;
      return rows.length ? rows : undefined;
    }, 'the digest settled');
    expect(d!.closed_at).not.toBeNull();
    expect(await h.sql`select 1 from events where type = 'digest_closed'`).toHaveLength(1);
    const after = refund();
    await h.enqueue(after);
    await h.card(after.id);
    expect(h.fake.calls.filter(isDigestPost)).toHaveLength(1);
  });

  it('changes nothing below the backlog: each card waits its turn', async () => {
    const few = Array.from({ length: 4 }, general);
    await Promise.all(few.map((e) => h.enqueue(e)));
    for (const e of few) await h.card(e.id);
    expect(await h.sql`select 1 from channel_digests where channel = ${GENERAL_CHANNEL}`).toHaveLength(0);
  });
});
