import { Queue } from 'bullmq';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { APPROVER, SIGNING_SECRET, makeEscalation, type Harness } from '../support/harness.js';
import { postSigned, slashCommandBody } from '../support/slack-signing.js';
import { GROUP, PRIMARY, SECONDARY, chainConfig, chainMessagesIn } from '../support/chain-config.js';
import { REDIS_URL, eventually } from '../support/services.js';
import { CHAINS_QUEUE, MAINTENANCE_QUEUE } from '../../src/queue/names.js';
import { CHAIN_EXHAUSTED_REASON } from '../../src/flow/chain.js';

const COVER = 'U0ONCALL05';
const LOST_CHANNEL = 'C0LOSTCHN1';
const SHIFT_CHANNEL = 'C0SHIFTEN1';

/**
 * The chain test config plus two routes: `lost`, a chain whose second step
 * waits 3 s (time to lose its next job), once through; `shift`, schedules
 * and no chain, for the shift-end re-ping.
 */
function config(): string {
  const c = parse(chainConfig()) as { routes: Array<Record<string, unknown>> };
  c.routes.unshift(
    {
      name: 'lost',
      match: { issueTypes: ['lost'] },
      channel: LOST_CHANNEL,
      approvers: { users: [APPROVER], usergroup: GROUP },
      schedules: ['chain-primary', 'chain-secondary'],
      chain: {
        name: 'lossy',
        steps: [
          { targets: ['primary_in_channel'], waitMinutes: 0.003 },
          { targets: ['dm_primary', 'secondary'], waitMinutes: 0.05 },
          { targets: ['usergroup'], waitMinutes: 0.003 },
        ],
        repeat: 1,
      },
    },
    { name: 'shift', match: { issueTypes: ['shift'] }, channel: SHIFT_CHANNEL, approvers: { users: [APPROVER] }, schedules: ['chain-primary'] },
  );
  return stringify(c);
}

let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot), { config: config() });

const dmChannel = (user: string) => `D${user.slice(1)}`;

async function withQueue<T>(name: string, fn: (q: Queue) => Promise<T>): Promise<T> {
  const q = new Queue(name, { connection: { url: REDIS_URL }, prefix: h.prefix });
  try {
    return await fn(q);
  } finally {
    await q.close();
  }
}

async function eventData(id: string, type: string): Promise<Array<Record<string, unknown>>> {
  const rows = await h.sql<{ data: Record<string, unknown> }[]>`select data from events where escalation_id = ${id} and type = ${type} order by id`;
  return rows.map((r) => r.data);
}

/** Runs the maintenance sweep now, as its every-minute job would, and returns what it did. */
async function runSweep(): Promise<Record<string, number>> {
  return withQueue(MAINTENANCE_QUEUE, async (q) => {
    const job = await q.add('sweep', {}, { jobId: `sweep-test-${Date.now()}` });
    return eventually(async () => ((await job.isCompleted()) ? ((await q.getJob(job.id!))!.returnvalue as Record<string, number>) : undefined), 'the sweep to run');
  });
}

/** An override in Postgres, as `/countersign override` stores it: `user` on call for `route` until `end`. */
async function overrideUntil(route: string, user: string, end: Date): Promise<void> {
  // One override at a time: an earlier test's would be another shift change.
  await h.sql`delete from oncall_overrides where route = ${route}`;
  await h.sql`insert into oncall_overrides (route, user_id, starts_at, ends_at, created_by) values (${route}, ${user}, ${new Date(Date.now() - 60_000)}, ${end}, ${APPROVER})`;
}

describe('the sweep restarts a chain whose job Redis lost', () => {
  it('reschedules the next step from the recorded steps, and the chain completes exactly once', async () => {
    h.fake.setUsergroup(GROUP, [APPROVER]);
    h.fake.reset();
    const e = makeEscalation({ issueType: 'lost', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await eventually(async () => ((await eventData(e.id, 'chain_step')).length === 2 ? true : undefined), 'steps 0 and 1 recorded');

    // Redis forgets the chain: every job of it (done or waiting) and the set that lists them.
    await withQueue(CHAINS_QUEUE, async (q) => {
      await eventually(async () => ((await q.getJobState(`chain-${e.id}-1`)) === 'completed' ? true : undefined), 'step 1 to finish');
      for (const i of [0, 1, 2]) await q.remove(`chain-${e.id}-${i}`);
      await h.redis.del(`${h.prefix}:${CHAINS_QUEUE}:of:${e.id}`);
      expect(await q.getJobState(`chain-${e.id}-2`)).toBe('unknown');
    });

    const swept = await runSweep();
    expect(swept.chainsResumed).toBe(1);
    const [, step1] = await eventData(e.id, 'chain_step');
    await withQueue(CHAINS_QUEUE, async (q) => {
      const job = await q.getJob(`chain-${e.id}-2`);
      expect(job).toBeDefined();
      // At the time step 1's record gave, not at once.
      expect(job!.timestamp + job!.opts.delay!).toBeGreaterThanOrEqual(Date.parse(step1!.nextAt as string) - 50);
    });
    // A second sweep finds the job there and adds nothing.
    expect((await runSweep()).chainsResumed).toBe(0);

    const decision = await h.client.waitForDecision(e.id, { timeoutMs: 15_000 });
    expect(decision).toMatchObject({ status: 'expired', proceed: false, decision: { failSafe: true, reason: CHAIN_EXHAUSTED_REASON } });
    expect((await eventData(e.id, 'chain_step')).map((s) => s.step)).toEqual([0, 1, 2]);
    expect(await eventData(e.id, 'expired')).toMatchObject([{ cause: 'chain_exhausted', chain: 'lossy' }]);
    // Nothing sent twice: step 1's secondary and DM, then step 2's group, once each.
    expect(chainMessagesIn(h.fake, { ts: card.ts, channel: LOST_CHANNEL }, [PRIMARY, SECONDARY])).toEqual([`thread:@${SECONDARY}`, `dm:${PRIMARY}`, `thread:!subteam^${GROUP}`]);
    await cb.waitFor(e.id);
    await eventually(async () => (await h.sql`select 1 from escalations where id = ${e.id} and notified_at is not null`).length || undefined, 'notified');
    expect(cb.received.filter((c) => c.json.escalationId === e.id)).toHaveLength(1);
  });
});

describe('shift-end re-ping on a route with schedules and no chain', () => {
  it('pings the new on-call person in the card’s thread and by DM for a high-urgency escalation, and records it', async () => {
    h.fake.reset();
    const end = new Date(Date.now() + 3000);
    await overrideUntil('shift', COVER, end);
    const e = makeEscalation({ issueType: 'shift', urgency: 'high', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(JSON.stringify(card.blocks)).toContain(`<@${COVER}>`);
    const handoff = await eventually(async () => (await eventData(e.id, 'chain_handoff'))[0], 'the shift-end re-ping');
    expect(handoff).toMatchObject({ handoffAt: end.getTime(), from: COVER, to: PRIMARY, fallback: false });
    // The card's own DM went to the person on call when it was posted; the re-ping to whoever took over.
    expect(chainMessagesIn(h.fake, { ts: card.ts, channel: SHIFT_CHANNEL }, [PRIMARY])).toEqual([`thread:@${PRIMARY}`, `dm:${PRIMARY}`]);
    expect(h.fake.messages(dmChannel(PRIMARY))[0]!.text).toContain('on-call shift started');
    expect((await eventData(e.id, 'paged')).map((p) => p.user)).toEqual([COVER, PRIMARY]);
    await h.click(APPROVER, 'countersign.approve', card, SHIFT_CHANNEL);
    await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
  });

  it('pings in the thread only, without a DM, for a normal escalation', async () => {
    h.fake.reset();
    const end = new Date(Date.now() + 3000);
    await overrideUntil('shift', COVER, end);
    const e = makeEscalation({ issueType: 'shift', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await eventually(async () => (await eventData(e.id, 'chain_handoff'))[0], 'the shift-end re-ping');
    expect(chainMessagesIn(h.fake, { ts: card.ts, channel: SHIFT_CHANNEL }, [PRIMARY, COVER])).toEqual([`thread:@${PRIMARY}`]);
    await h.click(APPROVER, 'countersign.approve', card, SHIFT_CHANNEL);
    await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
  });

  it('removes the planned re-ping when someone decides first', async () => {
    h.fake.reset();
    const end = new Date(Date.now() + 60_000);
    await overrideUntil('shift', COVER, end);
    const e = makeEscalation({ issueType: 'shift', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    const jobId = `chain-${e.id}-handoff-${end.getTime()}`;
    await withQueue(CHAINS_QUEUE, async (q) => {
      await eventually(async () => ((await q.getJobState(jobId)) === 'delayed' ? true : undefined), 'the re-ping planned');
    });
    await h.click(APPROVER, 'countersign.approve', card, SHIFT_CHANNEL);
    expect((await h.client.waitForDecision(e.id, { timeoutMs: 5000 })).status).toBe('approved');
    await withQueue(CHAINS_QUEUE, async (q) => {
      await eventually(async () => ((await q.getJobState(jobId)) === 'unknown' ? true : undefined), 'the re-ping removed');
    });
    // A sweep does not plan it again for a decided escalation.
    await runSweep();
    await withQueue(CHAINS_QUEUE, async (q) => expect(await q.getJobState(jobId)).toBe('unknown'));
    expect(await eventData(e.id, 'chain_handoff')).toEqual([]);
  });

  it('plans a lost re-ping again in the sweep', async () => {
    h.fake.reset();
    const end = new Date(Date.now() + 60_000);
    await overrideUntil('shift', COVER, end);
    const e = makeEscalation({ issueType: 'shift', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    const jobId = `chain-${e.id}-handoff-${end.getTime()}`;
    await withQueue(CHAINS_QUEUE, async (q) => {
      await eventually(async () => ((await q.getJobState(jobId)) === 'delayed' ? true : undefined), 'the re-ping planned');
      await q.remove(jobId);
    });
    await runSweep();
    await withQueue(CHAINS_QUEUE, async (q) => expect(await q.getJobState(jobId)).toBe('delayed'));
    await h.click(APPROVER, 'countersign.approve', card, SHIFT_CHANNEL);
    await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
  });
});

describe('/countersign override … covers @other', () => {
  const command = async (text: string, channelId = SHIFT_CHANNEL) => {
    const marker = h.fake.callsTo('response_url').length;
    const res = await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, slashCommandBody({ command: '/countersign', text, userId: APPROVER, channelId, responseUrl: h.fake.responseUrl }));
    expect(res.status).toBe(200);
    await h.fake.waitFor('response_url', marker + 1);
    return String(h.fake.callsTo('response_url')[marker]!.args.text);
  };

  it('puts someone on call only in place of the person they cover, recorded with whom they cover', async () => {
    await h.sql`delete from oncall_overrides where route = 'shift'`;
    // SECONDARY is not on call for this route: covering them changes nothing.
    expect(await command(`override <@${COVER}|cover> 2h covers <@${SECONDARY}> shift`)).toMatch(
      new RegExp(`^<@${COVER}> covers <@${SECONDARY}> \\(whenever they would be on call\\) for route \`shift\` from <!date\\^\\d+\\^.*> until <!date\\^\\d+\\^.*> \\(override by <@${APPROVER}>, recorded\\)\\.$`),
    );
    expect(await command('oncall shift')).toContain(`on call now: <@${PRIMARY}>`);

    // Covering the person on call: they are replaced; the route is the channel's when none is named.
    expect(await command(`override <@${COVER}> 1h covers <@${PRIMARY}>`)).toContain(`<@${COVER}> covers <@${PRIMARY}>`);
    expect(await command('oncall shift')).toContain(`on call now: <@${COVER}>`);
    const e = makeEscalation({ issueType: 'shift', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(JSON.stringify(card.blocks)).toContain(`<@${COVER}>`);

    const rows = await h.sql<Array<{ user_id: string; covers: string; created_by: string }>>`select user_id, covers, created_by from oncall_overrides where route = 'shift' order by created_at`;
    expect(rows).toEqual([
      { user_id: COVER, covers: SECONDARY, created_by: APPROVER },
      { user_id: COVER, covers: PRIMARY, created_by: APPROVER },
    ]);
    const events = await h.sql<Array<{ actor: string; data: Record<string, unknown> }>>`select actor, data from events where type = 'oncall_override' and data->>'route' = 'shift' order by id`;
    expect(events.map((ev) => [ev.actor, ev.data.user, ev.data.covers])).toEqual([
      [APPROVER, COVER, SECONDARY],
      [APPROVER, COVER, PRIMARY],
    ]);
    await h.click(APPROVER, 'countersign.approve', card, SHIFT_CHANNEL);
    await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
  });

  it('pings the new on-call person about escalations already waiting when an override changes who is on call now', async () => {
    await h.sql`delete from oncall_overrides where route = 'shift'`;
    h.fake.reset();
    const e = makeEscalation({ issueType: 'shift', callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(JSON.stringify(card.blocks)).toContain(`<@${PRIMARY}>`);

    expect(await command(`override <@${COVER}> 1h shift`)).toContain('They are pinged about the escalation waiting on this route.');
    const handoff = await eventually(async () => (await eventData(e.id, 'chain_handoff'))[0], 'the re-ping');
    expect(handoff).toMatchObject({ from: PRIMARY, to: COVER, fallback: false });
    expect(chainMessagesIn(h.fake, { ts: card.ts, channel: SHIFT_CHANNEL }, [PRIMARY, COVER])).toEqual([`thread:@${COVER}`]);

    // Covering someone who is not on call changes nobody: no second ping.
    expect(await command(`override <@${SECONDARY}> 1h shift covers <@U0ONCALL09>`)).not.toContain('pinged');
    await h.click(APPROVER, 'countersign.approve', card, SHIFT_CHANNEL);
    await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
    expect(await eventData(e.id, 'chain_handoff')).toHaveLength(1);
  });
});
