import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { APPROVER, makeEscalation, type Harness } from '../support/harness.js';
import { GROUP, INCIDENTS_CHANNEL, PRIMARY, QUICK_CHAIN_MESSAGES, SECONDARY, SUPPORT_CHANNEL, chainConfig, chainMessagesIn } from '../support/chain-config.js';
import { REDIS_URL, eventually } from '../support/services.js';
import { CHAINS_QUEUE } from '../../src/queue/names.js';
import { CHAIN_EXHAUSTED_REASON } from '../../src/flow/chain.js';

const COVER = 'U0ONCALL05';
const config = chainConfig();

let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot), { config });

const dmChannel = (user: string) => `D${user.slice(1)}`;

/** The chain's messages for this card, in order: its thread replies and the DMs to on-call people. */
const chainMessages = (cardTs: string, channel: string) => chainMessagesIn(h.fake, { ts: cardTs, channel }, [PRIMARY, SECONDARY, COVER]);

async function chainSteps(id: string, count: number): Promise<Array<{ step: number; targets: string[] }>> {
  return eventually(async () => {
    const rows = await h.sql<{ data: { step: number; targets: string[] } }[]>`select data from events where escalation_id = ${id} and type = 'chain_step' order by id`;
    return rows.length >= count ? rows.map((r) => ({ step: r.data.step, targets: r.data.targets })) : undefined;
  }, `${count} chain_step events`);
}

async function withChainsQueue<T>(fn: (q: Queue) => Promise<T>): Promise<T> {
  const q = new Queue(CHAINS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
  try {
    return await fn(q);
  } finally {
    await q.close();
  }
}

describe('escalation chains', () => {
  it('walks every step twice, then denies with the fail-safe outcome, telling the agent once', async () => {
    h.fake.setUsergroup(GROUP, [APPROVER]);
    h.fake.reset();
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);

    const decision = await h.client.waitForDecision(e.id, { timeoutMs: 15_000 });
    expect(decision).toMatchObject({ status: 'expired', proceed: false, decision: { failSafe: true, reason: CHAIN_EXHAUSTED_REASON } });
    const got = await cb.waitFor(e.id);
    expect(got.json).toMatchObject({ status: 'expired', proceed: false });

    // The card itself is the first step's mention of the primary; the second round mentions them in its thread.
    expect(JSON.stringify(card.blocks)).toContain(`<@${PRIMARY}>`);
    expect(chainMessages(card.ts, 'C0REFUNDS1')).toEqual(QUICK_CHAIN_MESSAGES);
    expect(h.fake.messages(dmChannel(PRIMARY))).toHaveLength(2);

    // Once expired, nothing the chain sent still reads as waiting: each thread ping and DM is updated to say how it ended.
    const [closed] = await eventually(async () => {
      const rows = await h.sql<{ data: { status: string; updated: unknown[]; homes: string[] } }[]>`select data from events where escalation_id = ${e.id} and type = 'pings_resolved'`;
      return rows.length ? rows : undefined;
    }, 'pings_resolved');
    // The approvers' App Homes are published again: the request leaves their list.
    expect(closed!.data).toMatchObject({ status: 'expired', homes: [APPROVER] });
    // By a job per user, a moment after the outcome.
    await h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === APPROVER && !JSON.stringify(c.args.view).includes(e.id));
    expect(closed!.data.updated).toHaveLength(QUICK_CHAIN_MESSAGES.length);
    const sent = [...h.fake.messages('C0REFUNDS1').filter((m) => m.thread_ts === card.ts), ...h.fake.messages(dmChannel(PRIMARY))];
    expect(sent).toHaveLength(QUICK_CHAIN_MESSAGES.length);
    for (const m of sent) {
      expect(m.text).toMatch(/^Resolved \(expired\)/);
      expect(JSON.stringify(m.blocks)).toContain('*Resolved: expired*');
      expect(JSON.stringify(m.blocks)).not.toMatch(/next step|still waiting|countersign\.approve/);
    }

    const steps = await chainSteps(e.id, 6);
    expect(steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
    const [expired] = await h.sql<{ data: Record<string, unknown> }[]>`select data from events where escalation_id = ${e.id} and type = 'expired'`;
    expect(expired!.data).toMatchObject({ cause: 'chain_exhausted', chain: 'quick', steps: 6, rounds: 2, outcome: 'denied' });
    const paged = await h.sql<{ data: { target: string; user: string } }[]>`select data from events where escalation_id = ${e.id} and type = 'paged' order by id`;
    // The card's page, then every step that names the primary or the secondary.
    const P = `primary:${PRIMARY}`;
    const S = `secondary:${SECONDARY}`;
    expect(paged.map((p) => `${p.data.target}:${p.data.user}`)).toEqual([P, P, S, P, P, S]);
    // Told exactly once, by the one guarded UPDATE.
    await eventually(async () => (await h.sql`select 1 from escalations where id = ${e.id} and notified_at is not null`).length || undefined, 'notified');
    expect(cb.received.filter((c) => c.json.escalationId === e.id)).toHaveLength(1);
  });

  it('stops the chain when someone approves: the waiting step is removed, and a late one pings nobody', async () => {
    h.fake.reset();
    const e = makeEscalation({ issueType: 'support', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await chainSteps(e.id, 1);
    expect(await withChainsQueue((q) => q.getJobState(`chain-${e.id}-1`))).toBe('delayed');

    await h.click(APPROVER, 'countersign.approve', card, SUPPORT_CHANNEL);
    expect((await h.client.waitForDecision(e.id, { timeoutMs: 5000 })).status).toBe('approved');
    await withChainsQueue(async (q) => {
      expect(await q.getJob(`chain-${e.id}-1`)).toBeUndefined();
      expect(await h.redis.smembers(`${h.prefix}:${CHAINS_QUEUE}:of:${e.id}`)).toEqual([]);
      // A step that was already on its way when the decision landed: it checks, and stays silent.
      const late = await q.add('step', { kind: 'step', escalationId: e.id, index: 1 }, { jobId: `late-${e.id}` });
      await eventually(async () => ((await late.isCompleted()) ? true : undefined), 'the late step to run');
      expect((await q.getJob(late.id!))?.returnvalue).toBe('skipped: not_pending');
    });
    expect(chainMessages(card.ts, SUPPORT_CHANNEL)).toEqual([]);
    const steps = await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'chain_step'`;
    expect(steps).toHaveLength(1);
  });

  it('starts an urgent escalation with a DM to the on-call person', async () => {
    h.fake.reset();
    const e = makeEscalation({ issueType: 'support', urgency: 'high', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    const [step] = await chainSteps(e.id, 1);
    expect(step!.targets).toEqual(['dm_primary', 'primary_in_channel']);
    expect(JSON.stringify(card.blocks)).toContain(`<@${PRIMARY}>`);
    expect(chainMessages(card.ts, SUPPORT_CHANNEL)).toEqual([`dm:${PRIMARY}`]);
    const [dm] = h.fake.messages(dmChannel(PRIMARY));
    expect(dm!.text).toContain(`<#${SUPPORT_CHANNEL}>`);
    expect(dm!.text).toContain('payments.refund');
    await h.click(APPROVER, 'countersign.approve', card, SUPPORT_CHANNEL);
    await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
  });

  it('pings nobody twice when a recorded step runs again (a retry after a crash)', async () => {
    h.fake.reset();
    const e = makeEscalation({ issueType: 'support', urgency: 'critical', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await chainSteps(e.id, 1);
    expect(chainMessages(card.ts, SUPPORT_CHANNEL)).toEqual([`dm:${PRIMARY}`]);
    await withChainsQueue(async (q) => {
      const again = await q.add('step', { kind: 'step', escalationId: e.id, index: 0 }, { jobId: `again-${e.id}` });
      await eventually(async () => ((await again.isCompleted()) ? true : undefined), 'the repeated step to run');
      expect((await q.getJob(again.id!))?.returnvalue).toBe('skipped: repeated');
      // Still one job for the next step: the repeat scheduled it under the same id.
      expect(await q.getJobState(`chain-${e.id}-1`)).toBe('delayed');
    });
    expect(chainMessages(card.ts, SUPPORT_CHANNEL)).toEqual([`dm:${PRIMARY}`]);
    expect(await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'chain_step'`).toHaveLength(1);
    await h.click(APPROVER, 'countersign.approve', card, SUPPORT_CHANNEL);
    await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
  });

  it('pings the new on-call person when a shift ends while the escalation waits', async () => {
    h.fake.reset();
    // COVER is on call for the next 3 s (an override), then PRIMARY's shift resumes.
    const start = new Date(Date.now() - 60_000);
    const end = new Date(Date.now() + 3000);
    await h.sql`insert into oncall_overrides (route, user_id, starts_at, ends_at, created_by) values ('incidents', ${COVER}, ${start}, ${end}, ${APPROVER})`;
    const e = makeEscalation({ issueType: 'incident', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await chainSteps(e.id, 1);
    const handoff = await eventually(async () => {
      const rows = await h.sql<{ data: Record<string, unknown> }[]>`select data from events where escalation_id = ${e.id} and type = 'chain_handoff'`;
      return rows[0]?.data;
    }, 'the handoff re-ping');
    expect(handoff).toMatchObject({ handoffAt: end.getTime(), from: COVER, to: PRIMARY, fallback: false });
    expect(JSON.stringify(card.blocks)).toContain(`<@${COVER}>`);
    expect(chainMessages(card.ts, INCIDENTS_CHANNEL)).toEqual([`thread:@${PRIMARY}`, `dm:${PRIMARY}`]);
    expect(h.fake.messages(dmChannel(PRIMARY))[0]!.text).toContain('on-call shift started');
    await h.click(APPROVER, 'countersign.approve', card, INCIDENTS_CHANNEL);
    await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
  });

  it('waits out a 429 on a step and sends nothing twice', async () => {
    h.fake.reset();
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    // The next post in the channel (step 2's thread reply) is refused once, for a second.
    h.fake.fail429('chat.postMessage', { channel: 'C0REFUNDS1', times: 1, retryAfterSec: 1 });
    expect((await h.client.waitForDecision(e.id, { timeoutMs: 15_000 })).status).toBe('expired');
    expect(h.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0REFUNDS1' && c.args.thread_ts === card.ts)).toHaveLength(QUICK_CHAIN_MESSAGES.filter((m) => m.startsWith('thread')).length + 1);
    expect(chainMessages(card.ts, 'C0REFUNDS1')).toEqual(QUICK_CHAIN_MESSAGES);
    expect((await chainSteps(e.id, 6)).map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('carries on after a restart in the middle of a chain and completes it exactly once', async () => {
    h.fake.reset();
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await chainSteps(e.id, 2);
    await h.restart();

    const decision = await h.client.waitForDecision(e.id, { timeoutMs: 15_000 });
    expect(decision).toMatchObject({ status: 'expired', decision: { failSafe: true } });
    expect(chainMessages(card.ts, 'C0REFUNDS1')).toEqual(QUICK_CHAIN_MESSAGES);
    expect((await chainSteps(e.id, 6)).map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
    const expired = await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'expired'`;
    expect(expired).toHaveLength(1);
    await cb.waitFor(e.id);
    await eventually(async () => (await h.sql`select 1 from escalations where id = ${e.id} and notified_at is not null`).length || undefined, 'notified');
    expect(cb.received.filter((c) => c.json.escalationId === e.id)).toHaveLength(1);
  });
});
