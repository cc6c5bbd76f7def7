import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EscalationInput } from '../../src/domain/escalation.js';
import { MODES_QUEUE } from '../../src/queue/names.js';
import { inAuditSample } from '../../src/domain/modes.js';
import { ACTION_ACCEPT_PROMOTION, ACTION_DECLINE_PROMOTION } from '../../src/slack/cards/mode-cards.js';
import type { StoredMessage } from '../../src/sandbox/slack-api.js';
import { APPROVER, APPROVER_2, OWNER, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { REDIS_URL, eventually } from '../support/services.js';
import { postSigned, slashCommandBody } from '../support/slack-signing.js';

const TRIAL_CHANNEL = 'C0TEAMTRL1';
const STEADY_CHANNEL = 'C0TEAMSTD1';
const GOVERNANCE = 'C0GOVERN01';

/** Admins include the agents' owner, to show the owner still cannot accept a promotion. */
const CONFIG = `
version: 1
slack: { postsPerSecondPerChannel: 1000, postBurst: 1000 }
routes:
  - name: default
    channel: C0GENERAL1
    approvers:
      users: [${APPROVER}, ${APPROVER_2}]
policy:
  alertChannel: ${GOVERNANCE}
  admins:
    users: [${APPROVER}, ${OWNER}]
  promotion:
    auditSampleRate: 0.5
  agents:
    - id: trial-agent
      alertChannel: ${TRIAL_CHANNEL}
      actions:
        - { action: crm.read, tier: autonomous }
        - { action: email.send, tier: autonomous }
        - { action: tickets.create, tier: autonomous }
    - id: steady-agent
      alertChannel: ${STEADY_CHANNEL}
      actions:
        - { action: crm.read, tier: autonomous }
    - id: shaky-agent
      mode: post_action
      actions:
        - { action: crm.read, tier: autonomous }
`;

let h: Harness;
let modes: Queue;
beforeAll(async () => {
  h = await startHarness({ config: CONFIG });
  modes = new Queue(MODES_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
});
afterAll(async () => {
  await modes?.close();
  await h?.close();
});

function act(agentId: string, type: string, params: Record<string, unknown> = {}): EscalationInput {
  const base = makeEscalation();
  return { ...base, agent: { ...base.agent, id: agentId }, issueType: 'support', confidence: 0.95, action: { type, params, reversible: true } };
}

/** A decided past action in the agent's record (the record is read from Postgres, whatever made the row). */
async function seedActions(agentId: string, n: number, status: 'approved' | 'allowed' | 'denied' = 'approved') {
  const rows = Array.from({ length: n }, () => ({ id: randomUUID(), status, agent_id: agentId, agent_owner: OWNER, action_type: 'crm.read', decided_by: 'policy' }));
  await h.sql`insert into escalations ${h.sql(rows)}`;
}

/** Runs the promotion/demotion check now (as the minute scheduler would) and waits for it. */
async function check(): Promise<void> {
  const job = await modes.add('check', {}, { removeOnComplete: false });
  await eventually(async () => ((await job.getState()) === 'completed' ? true : undefined), 'modes check completed');
}

/** An id the post-action audit draws (or not), at the config's 50%. */
function withId(e: EscalationInput, drawn: boolean): EscalationInput {
  let id = randomUUID();
  while (inAuditSample(id, 0.5) !== drawn) id = randomUUID();
  return { ...e, id };
}

const proposalCards = (channel: string) =>
  h.fake.messages(channel).filter((m) => JSON.stringify(m.blocks ?? []).includes(ACTION_ACCEPT_PROMOTION));

async function waitForCard(channel: string): Promise<StoredMessage> {
  return eventually(async () => proposalCards(channel)[0], `proposal card in ${channel}`);
}

const eventsOf = (type: string) => h.sql`select actor, data from events where type = ${type} order by id`;

const slash = (text: string, userId = APPROVER) =>
  postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, slashCommandBody({ command: '/countersign', text, userId, channelId: 'C0GENERAL1', responseUrl: h.fake.responseUrl }));

describe('review modes', () => {
  it('starts an agent without a mode in pre-action review: even an autonomous action waits for a person, and the row records the mode', async () => {
    const e = act('trial-agent', 'crm.read');
    const answer = await h.client.authorize(e);
    expect(answer).toMatchObject({ decision: 'pending', tier: 'autonomous', rule: expect.stringMatching(/^default mode/) });
    const [row] = await h.sql`select status, mode, policy_reason from escalations where id = ${e.id}`;
    expect(row).toMatchObject({ status: 'pending', mode: 'pre_action', policy_reason: expect.stringMatching(/^pre-action review/) });
    const [ev] = await h.sql`select data from events where escalation_id = ${e.id} and type = 'received'`;
    expect(ev!.data).toMatchObject({ policy: { outcome: 'pending', mode: 'pre_action' } });
    expect(JSON.stringify((await h.card(e.id)).blocks)).toContain("pre-action review: a person approves each of this agent's actions before it runs");
  });

  it('proposes no promotion at 99 successful actions, and exactly one card at 100', async () => {
    // The pending action above is not in the record; 99 approved ones are.
    await seedActions('trial-agent', 99);
    await check();
    expect(await h.sql`select 1 from mode_proposals where agent_id = 'trial-agent'`).toHaveLength(0);
    await seedActions('trial-agent', 1);
    await check();
    const card = await waitForCard(TRIAL_CHANNEL);
    expect(JSON.stringify(card.blocks)).toContain('100 successful of 100 actions, 0 errors (0%)');
    expect(JSON.stringify(card.blocks)).toContain('100 successful actions with an error rate under 2%');
    await check();
    expect(await h.sql`select status from mode_proposals where agent_id = 'trial-agent'`).toEqual([{ status: 'pending' }]);
    expect(proposalCards(TRIAL_CHANNEL)).toHaveLength(1);
    expect(await eventsOf('mode_promotion_proposed')).toHaveLength(1);
  });

  it('shows the mode, the record and the bars in /countersign agent', async () => {
    await slash('agent trial-agent');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).includes('*Agent `trial-agent`*'));
    const text = String(reply.args.text);
    expect(text).toContain('pre-action review (`pre_action`, from `default mode');
    expect(text).toContain('100 successful of 100 actions, 0 errors (0%)');
    expect(text).toContain('post-action audit: 100 successful actions with an error rate under 2%');
    expect(text).toContain('A promotion to post-action audit awaits an answer');
  });

  it('applies the mode in /countersign policy too, so a policy check says what intake would do', async () => {
    await slash('policy {"agent":{"id":"trial-agent"},"action":{"type":"crm.read","params":{}}}');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).includes('outcome:'));
    expect(String(reply.args.text)).toContain('outcome: pending\nmode:    pre_action (default mode');
  });

  it('refuses Accept from a non-admin and from the agent owner, recording both, then an admin accepts', async () => {
    const card = await waitForCard(TRIAL_CHANNEL);
    // Accept loosens review: it asks first, naming the agent, the mode, its record, and that it cannot be undone here.
    const accept = (card.blocks as Array<{ elements?: Array<{ action_id: string; confirm?: { title: { text: string }; text: { text: string } } }> }>).flatMap((b) => b.elements ?? []).find((el) => el.action_id === ACTION_ACCEPT_PROMOTION)!;
    expect(accept.confirm!.title.text).toBe('Move trial-agent to post-action audit?');
    expect(accept.confirm!.text.text).toMatch(/`trial-agent` moves to \*post-action audit\* on a record of [\d,]+ actions .*cannot be undone/);
    await h.click('U0STRANGER1', ACTION_ACCEPT_PROMOTION, card, TRIAL_CHANNEL);
    await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0STRANGER1' && String(c.args.text).includes('Only Countersign admins'));
    await h.click(OWNER, ACTION_ACCEPT_PROMOTION, card, TRIAL_CHANNEL);
    await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === OWNER && String(c.args.text).includes('You own this agent'));
    const refused = await eventsOf('mode_promotion_refused');
    expect(refused.map((r) => [r.actor, (r.data as { reason: string }).reason])).toEqual([
      ['U0STRANGER1', 'not_an_approver'],
      [OWNER, 'owner_cannot_approve'],
    ]);
    expect(await h.sql`select 1 from agent_modes where agent_id = 'trial-agent'`).toHaveLength(0);

    expect((await h.click(APPROVER, ACTION_ACCEPT_PROMOTION, card, TRIAL_CHANNEL)).status).toBe(200);
    const [mode] = await eventually(async () => {
      const rows = await h.sql`select mode, set_by from agent_modes where agent_id = 'trial-agent' and scope = '*'`;
      return rows.length ? rows : undefined;
    }, 'agent_modes row');
    expect(mode).toEqual({ mode: 'post_action', set_by: APPROVER });
    expect(await eventsOf('mode_promoted')).toEqual([{ actor: APPROVER, data: expect.objectContaining({ agentId: 'trial-agent', from: 'pre_action', to: 'post_action' }) }]);
    await eventually(async () => (JSON.stringify(h.fake.message(TRIAL_CHANNEL, card.ts)?.blocks).includes(`Accepted by <@${APPROVER}>`) ? true : undefined), 'card updated');
    expect(JSON.stringify(h.fake.message(TRIAL_CHANNEL, card.ts)?.blocks)).not.toContain(ACTION_ACCEPT_PROMOTION);

    // A second click changes nothing.
    await h.click(APPROVER_2, ACTION_DECLINE_PROMOTION, card, TRIAL_CHANNEL);
    await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === APPROVER_2 && String(c.args.text).includes('already accepted'));
  });

  it('runs the promoted agent’s known actions at once, and posts a review card for those drawn into the audit sample', async () => {
    const notDrawn = withId(act('trial-agent', 'crm.read'), false);
    expect(await h.client.authorize(notDrawn)).toMatchObject({ decision: 'allow', tier: 'autonomous' });
    const drawn = withId(act('trial-agent', 'crm.read'), true);
    expect(await h.client.authorize(drawn)).toMatchObject({ decision: 'allow', tier: 'supervised', reason: 'post-action audit: this autonomous action was drawn for review afterwards' });
    const [row] = await h.sql`select status, mode, review_state from escalations where id = ${drawn.id}`;
    expect(row).toEqual({ status: 'allowed', mode: 'post_action', review_state: 'pending' });
    expect(JSON.stringify((await h.card(drawn.id)).blocks)).toContain('post-action audit: this autonomous action was drawn for review afterwards');
  });

  it('sends a never-seen action type of a promoted agent back to a person, with a notice to the team and the owner', async () => {
    const e = act('trial-agent', 'email.send', { to: 'ops@acme.example' });
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(card).toBeDefined();
    const [row] = await h.sql`select status, mode from escalations where id = ${e.id}`;
    expect(row).toEqual({ status: 'pending', mode: 'pre_action' });
    expect(await h.sql`select mode, reason from agent_modes where agent_id = 'trial-agent' and scope = 'email.send'`).toEqual([
      { mode: 'pre_action', reason: 'new capability: email.send was never seen for this agent' },
    ]);
    const notice = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === TRIAL_CHANNEL && String(c.args.text).includes('tightened'));
    expect(JSON.stringify(notice.args.blocks)).toContain('is back in *pre-action review* (was post-action audit): new capability: email.send');
    await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === OWNER && String(c.args.text).includes('tightened'));
    expect(await eventsOf('mode_demoted')).toEqual([
      { actor: 'system', data: expect.objectContaining({ agentId: 'trial-agent', scope: 'email.send', from: 'post_action', to: 'pre_action', cause: 'new_capability' }) },
    ]);
    // The agent's other actions keep their mode.
    expect(await h.client.authorize(act('trial-agent', 'crm.read'))).toMatchObject({ decision: 'allow' });
  });

  it('sends every concurrent first request of a new capability to a person, with one demotion', async () => {
    const batch = Array.from({ length: 20 }, () => act('trial-agent', 'tickets.create'));
    await h.queue.addBulk(batch.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
    const rows = await eventually(async () => {
      const r = await h.sql`select status, mode from escalations where id in ${h.sql(batch.map((e) => e.id))}`;
      return r.length === batch.length ? r : undefined;
    }, 'all 20 recorded');
    expect(rows.map((r) => r.status)).toEqual(Array(20).fill('pending'));
    const demotions = (await eventsOf('mode_demoted')).filter((d) => (d.data as { scope: string }).scope === 'tickets.create');
    expect(demotions).toHaveLength(1);
  });

  it('records a decline, and does not ask again on the same evidence', async () => {
    await seedActions('steady-agent', 120, 'allowed');
    await check();
    const card = await waitForCard(STEADY_CHANNEL);
    await h.click(APPROVER, ACTION_DECLINE_PROMOTION, card, STEADY_CHANNEL);
    await eventually(async () => ((await eventsOf('mode_promotion_declined')).length ? true : undefined), 'declined event');
    expect(await h.sql`select status, decided_by from mode_proposals where agent_id = 'steady-agent'`).toEqual([{ status: 'declined', decided_by: APPROVER }]);
    await eventually(async () => (JSON.stringify(h.fake.message(STEADY_CHANNEL, card.ts)?.blocks).includes('Declined by') ? true : undefined), 'card updated');
    await check();
    expect(await h.sql`select 1 from mode_proposals where agent_id = 'steady-agent'`).toHaveLength(1);
    expect(await h.sql`select 1 from agent_modes where agent_id = 'steady-agent'`).toHaveLength(0);
  });

  it('demotes an agent on its own when the error rate reaches the bar, with a notice', async () => {
    await seedActions('shaky-agent', 49, 'allowed');
    await seedActions('shaky-agent', 1, 'denied');
    await check();
    expect(await h.sql`select mode, set_by from agent_modes where agent_id = 'shaky-agent'`).toEqual([{ mode: 'pre_action', set_by: 'system' }]);
    const notice = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === GOVERNANCE && String(c.args.text).includes('shaky-agent'));
    expect(JSON.stringify(notice.args.blocks)).toContain('error rate 2% (1 error in 50 actions) reached the 2% bar of post-action audit');
    expect(await h.client.authorize(act('shaky-agent', 'crm.read'))).toMatchObject({ decision: 'pending' });
  });
});
