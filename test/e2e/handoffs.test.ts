import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAINS_QUEUE } from '../../src/queue/names.js';
import { APPROVER, APPROVER_2, OWNER, REFUNDS_CHANNEL, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { ONCALL, digestOf, handoffConfig, pickHandoff, submitReassign } from '../support/handoff-config.js';
import { holdReply } from '../support/held-reply.js';
import { REDIS_URL, eventually } from '../support/services.js';

const STRANGER = 'U0STRANGER1';
const SNOOZE_MS = 30 * 60_000;

let h: Harness;
let chains: Queue;
beforeAll(async () => {
  h = await startHarness({ config: handoffConfig() });
  chains = new Queue(CHAINS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
});
afterAll(async () => {
  await chains?.close();
  await h?.close();
});

async function pendingCard(overrides = {}) {
  const e = makeEscalation(overrides);
  await h.enqueue(e);
  return { e, card: await h.card(e.id) };
}

const ephemeralTo = (user: string, contains: string) => h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === user && String(c.args.text).includes(contains));
const eventsOf = (id: string, type: string) => h.sql<Array<{ actor: string; data: Record<string, unknown> }>>`select actor, data from events where escalation_id = ${id} and type = ${type} order by id`;
const snoozeJobId = (id: string, user: string, until: string) => `chain-${id}-snooze-${user}-${new Date(until).getTime()}`;
const cardText = (ts: string) => JSON.stringify(h.fake.message(REFUNDS_CHANNEL, ts)?.blocks ?? []);
const dmsAbout = (user: string, id: string, contains: string) =>
  h.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === user && JSON.stringify(c.args.blocks).includes(id) && String(c.args.text).includes(contains));

describe('the card’s hand-off menu', () => {
  it('is one overflow after the buttons: Snooze 30 min and Reassign…', async () => {
    const { card } = await pendingCard();
    const actions = (card.blocks as Array<{ type: string; elements?: Array<{ type: string; action_id: string; options?: Array<{ text: { text: string } }> }> }>).find((b) => b.type === 'actions')!;
    expect(actions.elements!.map((e) => e.type)).toEqual(['button', 'button', 'button', 'overflow']);
    expect(actions.elements!.at(-1)!.options!.map((o) => o.text.text)).toEqual(['Snooze 30 min', 'Reassign…']);
  });
});

describe('Snooze', () => {
  it('records the snooze, puts a re-ping 30 min out in the queue, shows it on the card, and DMs the snoozer when it fires', async () => {
    const { e, card } = await pendingCard();
    expect((await pickHandoff(h, APPROVER, card, 'snooze')).status).toBe(200);
    await ephemeralTo(APPROVER, 'Snoozed: you will get a DM about this request at');

    const [ev] = await eventsOf(e.id, 'snoozed');
    expect(ev).toMatchObject({ actor: APPROVER, data: { user: APPROVER, minutes: 30 } });
    const until = String(ev!.data.until);
    const job = (await chains.getJob(snoozeJobId(e.id, APPROVER, until)))!;
    expect(await job.getState()).toBe('delayed');
    expect(job.data).toEqual({ kind: 'snooze', escalationId: e.id, user: APPROVER, at: new Date(until).getTime() });
    // Delayed by 30 minutes from when it was added, give or take the time the click took.
    expect(job.delay).toBeLessThanOrEqual(SNOOZE_MS);
    expect(job.delay).toBeGreaterThan(SNOOZE_MS - 10_000);
    expect(Math.abs(job.timestamp + job.delay - new Date(until).getTime())).toBeLessThan(1000);

    // The card says so; its on-call line stays as posted.
    await eventually(async () => (cardText(card.ts).includes(`:zzz: Snoozed by <@${APPROVER}> until`) ? true : undefined), 'the card’s snooze line');
    expect(cardText(card.ts)).toContain(`On call for route \`refunds\`: <@${ONCALL}>`);
    expect(cardText(card.ts)).toContain('countersign.handoff');

    // Time passes: the delayed job runs now, and the snoozer gets their DM, once.
    await job.promote();
    const dm = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === APPROVER && String(c.args.text).includes('Your snooze is over'));
    expect(JSON.stringify(dm.args.blocks)).toContain(e.id);
    const [sent] = await eventually(async () => {
      const rows = await eventsOf(e.id, 'oncall_dm');
      return rows.length ? rows : undefined;
    }, 'the re-ping recorded');
    expect(sent!.data).toMatchObject({ user: APPROVER, cause: 'snooze', snoozedBy: APPROVER, snoozedUntil: until });
    // Still pending: the snooze changed no deadline.
    const [row] = await h.sql`select status, deadline from escalations where id = ${e.id}`;
    expect(row!.status).toBe('pending');
    expect(String(ev!.data.deadline)).toBe((row!.deadline as Date).toISOString());
  });

  it('lands on the card even when clicked before the card’s post was recorded, with its on-call line as posted', async () => {
    const e = makeEscalation();
    // Slack shows the card, but its reply (with the ts the bot records) waits until the snooze is in.
    const held = holdReply(h.fake, 'chat.postMessage', (call) => JSON.stringify(call.args).includes(e.id));
    try {
      await h.enqueue(e);
      const card = await h.card(e.id);
      expect((await h.sql`select card_ts from escalations where id = ${e.id}`)[0]!.card_ts).toBeNull();
      await pickHandoff(h, APPROVER, card, 'snooze');
      await eventually(async () => ((await eventsOf(e.id, 'snoozed')).length ? true : undefined), 'the snooze recorded');
      held.release();
      await eventually(async () => (cardText(card.ts).includes(`:zzz: Snoozed by <@${APPROVER}> until`) ? true : undefined), 'the card’s snooze line');
      expect(cardText(card.ts)).toContain(`On call for route \`refunds\`: <@${ONCALL}>`);
    } finally {
      held.stop();
    }
  });

  it('does nothing when the request is decided before the snooze ends: the job is removed, and a late one pings nobody', async () => {
    const { e, card } = await pendingCard();
    await pickHandoff(h, APPROVER, card, 'snooze');
    const [ev] = await eventually(async () => {
      const rows = await eventsOf(e.id, 'snoozed');
      return rows.length ? rows : undefined;
    }, 'the snooze');
    const jobId = snoozeJobId(e.id, APPROVER, String(ev!.data.until));
    await eventually(async () => ((await chains.getJob(jobId)) ? true : undefined), 'the re-ping job');

    await h.click(APPROVER_2, 'countersign.approve', card);
    await eventually(async () => ((await chains.getJob(jobId)) === undefined ? true : undefined), 'the re-ping job removed by the decision');

    // A re-ping that was already running (or re-added) finds the request decided and sends nothing.
    const late = await chains.add('snooze', { kind: 'snooze', escalationId: e.id, user: APPROVER, at: new Date(String(ev!.data.until)).getTime() }, { jobId: `late-${e.id}` });
    await eventually(async () => ((await late.getState()) === 'completed' ? true : undefined), 'the late re-ping to run');
    expect((await chains.getJob(late.id!))!.returnvalue).toBe('skipped: not_pending');
    expect(dmsAbout(APPROVER, e.id, 'Your snooze is over')).toHaveLength(0);
    expect(await eventsOf(e.id, 'oncall_dm')).toHaveLength(0);
  });

  it('never leaves a re-ping behind when snoozes race approvals: one decision each, and no snooze job waiting', async () => {
    const cards = await Promise.all(Array.from({ length: 6 }, () => pendingCard()));
    await Promise.all(cards.flatMap(({ card }) => [pickHandoff(h, APPROVER, card, 'snooze'), h.click(APPROVER_2, 'countersign.approve', card)]));
    const ids = cards.map((c) => c.e.id);
    await eventually(async () => ((await h.sql`select 1 from escalations where id = any(${ids}) and status = 'approved'`).length === ids.length ? true : undefined), 'every decision');
    expect(await h.sql`select 1 from events where escalation_id = any(${ids}) and type = 'decision_made'`).toHaveLength(ids.length);
    // A snooze recorded before its decision had its job removed by it; one after it recorded nothing.
    await eventually(async () => {
      const waiting = (await chains.getJobs(['delayed', 'waiting'])).filter((j) => ids.includes(String(j.data.escalationId)) && j.data.kind === 'snooze');
      return waiting.length === 0 ? true : undefined;
    }, 'no snooze job left waiting');
  });

  it('leaves the deadline alone: a snoozed request still expires at its deadline, denied (fail-safe)', async () => {
    const deadline = new Date(Date.now() + 4000);
    const { e, card } = await pendingCard({ deadline: deadline.toISOString() });
    await pickHandoff(h, APPROVER, card, 'snooze');
    await ephemeralTo(APPROVER, 'Snoozed');
    const row = await eventually(async () => {
      const [r] = await h.sql`select status, fail_safe, decided_at from escalations where id = ${e.id}`;
      return r!.status === 'expired' ? r : undefined;
    }, 'the expiry', 15_000);
    expect(row).toMatchObject({ status: 'expired', fail_safe: true });
    expect((row.decided_at as Date).getTime()).toBeLessThan(deadline.getTime() + 10_000);
    const [ev] = await eventsOf(e.id, 'snoozed');
    await eventually(async () => ((await chains.getJob(snoozeJobId(e.id, APPROVER, String(ev!.data.until)))) === undefined ? true : undefined), 'the re-ping cancelled by the expiry');
  });

  it('refuses someone who is not an approver of the route, and records the refusal', async () => {
    const { e, card } = await pendingCard();
    await pickHandoff(h, STRANGER, card, 'snooze');
    await ephemeralTo(STRANGER, 'You are not an approver for route `refunds`');
    expect(await eventsOf(e.id, 'snoozed')).toHaveLength(0);
    expect((await eventsOf(e.id, 'decision_refused')).map((r) => r.data)).toEqual([{ kind: 'snooze', reason: 'not_an_approver', channel: REFUNDS_CHANNEL }]);
  });

  it('refuses the agent’s owner, though they are on the route’s approver list', async () => {
    const { e, card } = await pendingCard();
    await pickHandoff(h, OWNER, card, 'snooze');
    await ephemeralTo(OWNER, 'You own this agent, so you cannot snooze or reassign its requests');
    expect(await eventsOf(e.id, 'snoozed')).toHaveLength(0);
  });
});

describe('Reassign…', () => {
  it('opens a modal with a user select for an approver, and refuses the owner before any modal', async () => {
    const { e, card } = await pendingCard();
    await pickHandoff(h, APPROVER, card, 'reassign');
    const open = await h.fake.waitFor((c) => c.method === 'views.open' && JSON.stringify(c.args.view).includes(e.id));
    const view = open.args.view as { callback_id: string; blocks: Array<{ block_id?: string; element?: { type: string } }> };
    expect(view.callback_id).toBe('countersign.reassign');
    expect(view.blocks.find((b) => b.block_id === 'assignee')!.element!.type).toBe('users_select');

    const opened = h.fake.callsTo('views.open').length;
    await pickHandoff(h, OWNER, card, 'reassign');
    await ephemeralTo(OWNER, 'You own this agent');
    expect(h.fake.callsTo('views.open')).toHaveLength(opened);
  });

  it('hands the card to another approver: recorded, a DM to them, and the card says who and by whom', async () => {
    const { e, card } = await pendingCard();
    const res = await submitReassign(h, APPROVER, e.id, digestOf(card), APPROVER_2, 'You know this customer');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');

    const [ev] = await eventsOf(e.id, 'reassigned');
    expect(ev).toMatchObject({ actor: APPROVER, data: { from: null, to: APPROVER_2, note: 'You know this customer' } });
    const dm = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === APPROVER_2 && JSON.stringify(c.args.blocks).includes(e.id));
    expect(String(dm.args.text)).toContain(`<@${APPROVER}> reassigned an approval on route \`refunds\` to you`);
    expect(JSON.stringify(dm.args.blocks)).toContain('You know this customer');
    // The DM carries Approve and Deny…: the new assignee may decide.
    expect(JSON.stringify(dm.args.blocks)).toContain('countersign.approve');
    await eventually(async () => (cardText(card.ts).includes(`Reassigned to <@${APPROVER_2}> by <@${APPROVER}>`) ? true : undefined), 'the card’s reassignment line');
    await eventually(async () => ((await eventsOf(e.id, 'oncall_dm')).some((r) => r.data.cause === 'reassigned' && r.data.user === APPROVER_2) ? true : undefined), 'the DM recorded');

    // The new assignee decides, and their DM is brought up to date with the outcome.
    await h.click(APPROVER_2, 'countersign.approve', card);
    // The DM's own channel (D…) is what the update names.
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.channel === `D${APPROVER_2.slice(1)}` && String(c.args.text).startsWith('Resolved (approved)'));
  });

  it.each([
    ['someone who is not an approver of the route', STRANGER, 'That person is not an approver of route refunds'],
    ['the agent’s owner', OWNER, 'That person owns this agent, so they cannot approve its actions'],
    ['nobody', null, 'Pick the approver to hand this to'],
  ])('refuses %s, naming the field', async (_who, to, message) => {
    const { e, card } = await pendingCard();
    const res = await submitReassign(h, APPROVER, e.id, digestOf(card), to);
    const body = (await res.json()) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors)).toEqual(['assignee']);
    expect(body.errors.assignee).toContain(message);
    expect(await eventsOf(e.id, 'reassigned')).toHaveLength(0);
  });

  it('refuses a submit by someone who may not hand it off, and one after the decision', async () => {
    const { e, card } = await pendingCard();
    const stranger = (await (await submitReassign(h, STRANGER, e.id, digestOf(card), APPROVER_2)).json()) as { errors: Record<string, string> };
    expect(stranger.errors.assignee).toContain('Only the approvers of route refunds');
    await h.click(APPROVER, 'countersign.approve', card);
    await eventually(async () => ((await h.sql`select 1 from escalations where id = ${e.id} and status = 'approved'`).length ? true : undefined), 'the decision');
    const late = (await (await submitReassign(h, APPROVER, e.id, digestOf(card), APPROVER_2)).json()) as { errors: Record<string, string> };
    expect(late.errors.assignee).toContain('Too late: this request is already approved');
    expect(await eventsOf(e.id, 'reassigned')).toHaveLength(0);
  });
});

describe('explain', () => {
  it('shows the snooze and the reassignment under who was paged', async () => {
    const { e, card } = await pendingCard();
    await pickHandoff(h, APPROVER, card, 'snooze');
    await ephemeralTo(APPROVER, 'Snoozed');
    await submitReassign(h, APPROVER, e.id, digestOf(card), APPROVER_2);
    const { loadExplainRows } = await import('../../src/db/queries/explain.js');
    const { buildExplanation } = await import('../../src/domain/explanation.js');
    const { openDatabase } = await import('../../src/db/client.js');
    const database = await openDatabase({ url: h.dbUrl, dataDir: '/nonexistent', max: 1 });
    try {
      const [x] = (await loadExplainRows(database.db, e.id)).escalations;
      const lines = buildExplanation(x!.escalation, x!.events, x!.outcomes).sections.find((s) => s.heading === 'Who was paged')!.lines.join('\n');
      expect(lines).toMatch(new RegExp(`${APPROVER} snoozed it for 30 min: a DM at \\S+; the deadline stayed \\S+`));
      expect(lines).toContain(`${APPROVER} reassigned it to ${APPROVER_2}`);
    } finally {
      await database.close();
    }
  });
});
