import { describe, expect, it } from 'vitest';
import type { FakeCall } from '../support/fake-slack.js';
import { APPROVER, REFUNDS_CHANNEL, SIGNING_SECRET, exampleConfigText, makeEscalation, type Harness } from '../support/harness.js';
import { withBotAndCallbacks } from '../support/bot-hooks.js';
import { eventually } from '../support/services.js';
import { blockActionsBody, homeActionsPayload, postSigned } from '../support/slack-signing.js';

/**
 * A decision on a digested escalation shows in the digest within a couple of
 * seconds, not at its timer: here the timer is 5 minutes, so every update
 * seen is a decision's refresh.
 */
const config = exampleConfigText.replace('  postBurst: 3\n', '  postBurst: 3\n  digest: { backlog: 5, updateSeconds: 300 }\n');
const BURST = 20;

let h: Harness;
withBotAndCallbacks((bot) => ({ h } = bot), { config });

const approveFromHome = (value: string) =>
  postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(homeActionsPayload({ userId: APPROVER, actionId: 'countersign.approve', value })));
const updatesOf = (ts: string) => h.fake.callsTo('chat.update').filter((c) => c.args.channel === REFUNDS_CHANNEL && c.args.ts === ts);
const says = (ts: string, text: string) => (c: FakeCall) => c.method === 'chat.update' && c.args.ts === ts && JSON.stringify(c.args.blocks).includes(text);

describe('a decision on a digested escalation', () => {
  it('updates the digest promptly, and a burst of decisions makes few updates', async () => {
    const burst = Array.from({ length: BURST }, () => makeEscalation());
    await Promise.all(burst.map((e) => h.enqueue(e)));
    const ids = burst.map((e) => e.id);
    const rows = await eventually(async () => {
      const r = await h.sql`select id, card_state, digest from escalations where id = any(${ids}::uuid[])`;
      return r.length === BURST && r.every((x) => x.card_state === 'posted' || x.card_state === 'digest') ? r : undefined;
    }, 'every card of the burst posted or in the digest');
    const members = rows.filter((r) => r.card_state === 'digest').map((r) => `${r.id}:${r.digest}`);
    expect(members.length).toBeGreaterThanOrEqual(8);
    const { ts } = await eventually(async () => (await h.sql`select ts from channel_digests where ts is not null`)[0], 'the digest posted');
    const digestTs = String(ts);

    // One decision: the digest says so within the refresh window (the timer would take 5 minutes).
    expect((await approveFromHome(members[0]!)).status).toBe(200);
    await h.fake.waitFor(says(digestTs, '1 handled'), 6_000);
    const afterOne = updatesOf(digestTs).length;

    // Six at once: one or two refreshes (a window's boundary may fall among them), never one each.
    const six = members.slice(1, 7);
    await Promise.all(six.map((m) => approveFromHome(m).then((r) => expect(r.status).toBe(200))));
    await h.fake.waitFor(says(digestTs, '7 handled'), 8_000);
    const forSix = updatesOf(digestTs).length - afterOne;
    expect(forSix).toBeGreaterThanOrEqual(1);
    expect(forSix).toBeLessThan(six.length);
    // Each refresh is one job per digest and window: the queue holds them by their deterministic ids.
    const jobs = await h.redis.keys(`${h.prefix}:*digest-*-refresh-*`);
    expect(jobs.length).toBeGreaterThanOrEqual(1);
  });
});
