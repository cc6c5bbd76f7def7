import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EscalationInput } from '../../src/domain/escalation.js';
import { MODES_QUEUE } from '../../src/queue/names.js';
import { ACTION_ACCEPT_PROMOTION } from '../../src/slack/cards/mode-cards.js';
import { ACTION_RESUME_AGENT } from '../../src/slack/cards/alerts.js';
import { APPROVER, OWNER, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { REDIS_URL, eventually } from '../support/services.js';
import { postSigned, slashCommandBody } from '../support/slack-signing.js';
import { HOSTILE_ID, expectValidMessage } from '../support/slack-limits.js';
import type { FakeCall } from '../support/fake-slack.js';

/*
 * Agents listed in the policy under ids that try to ping the channel, forge a
 * mention, disguise a link and reverse the text, and to dress themselves up in
 * formatting. Wherever such an id reaches Slack (a post, an update, a command
 * reply), it must arrive as inert text.
 */

/** Without spaces, so a command can name it as one word; in pre-action review, so it can earn a promotion. */
const FORMATTED_ID = '<!here>~strike~*bold*`code`\u202E';
/** How it reads in a code span: inert, and the backticks cannot close the span. */
const FORMATTED_SHOWN = '`&lt;!here&gt;~strike~*bold*ˋcodeˋ`';
const GOVERNANCE = 'C0GOVERN01';
const GENERAL = 'C0GENERAL1';
const yamlString = (s: string) => JSON.stringify(s);

/** A 1.2-second review SLA, so the supervised reminder and its escalation happen within the test. */
const CONFIG = `
version: 1
slack: { postsPerSecondPerChannel: 1000, postBurst: 1000 }
routes:
  - name: default
    channel: ${GENERAL}
    approvers:
      users: [${APPROVER}]
policy:
  supervisedReviewMinutes: 0.02
  alertChannel: ${GOVERNANCE}
  admins:
    users: [${APPROVER}]
  agents:
    - id: ${yamlString(HOSTILE_ID)}
      mode: exception_only
      actions:
        - { action: purchases.create, tier: autonomous, spendParam: amountUsd }
        - { action: tickets.create, tier: supervised }
      budgets:
        dailyUsd: 10
    - id: ${yamlString(FORMATTED_ID)}
      actions:
        - { action: crm.read, tier: autonomous }
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: CONFIG });
});
afterAll(async () => {
  await h?.close();
});

function act(agentId: string, type: string, params: Record<string, unknown> = {}): EscalationInput {
  const base = makeEscalation();
  return { ...base, agent: { ...base.agent, id: agentId }, confidence: 0.95, action: { type, params, reversible: true } };
}

const slash = (text: string) =>
  postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, slashCommandBody({ command: '/countersign', text, userId: APPROVER, channelId: GENERAL, responseUrl: h.fake.responseUrl }));

/** The message as Slack received it: fallback text and blocks. */
const received = (c: FakeCall) => ({ text: String(c.args.text ?? ''), blocks: (c.args.blocks as unknown[] | undefined) ?? [] });

describe('an agent id that tries to ping, link and reverse', () => {
  it('stays inert in the budget-pause alert, both when it is posted and after Resume', async () => {
    expect(await h.client.authorize(act(HOSTILE_ID, 'purchases.create', { amountUsd: 6 }))).toMatchObject({ decision: 'allow' });
    expect(await h.client.authorize(act(HOSTILE_ID, 'purchases.create', { amountUsd: 6 }))).toMatchObject({ decision: 'deny' });
    const alert = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === GOVERNANCE && String(c.args.text).includes('is paused'));
    expectValidMessage(received(alert));
    expect(String(alert.args.text)).toContain('&lt;!channel&gt; &lt;@U0EVIL0001&gt; &lt;https://evil.example|bank&gt;');

    const stored = h.fake.messages(GOVERNANCE).find((m) => m.text.includes('is paused'))!;
    await h.click(APPROVER, ACTION_RESUME_AGENT, stored, GOVERNANCE);
    const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === stored.ts);
    expect(JSON.stringify(update.args.blocks)).toContain('was resumed* by');
    expectValidMessage(received(update));
  });

  it('stays inert in /countersign budget, for every agent and for one named', async () => {
    await slash('budget');
    const all = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).includes('Spend against caps'));
    expectValidMessage(received(all));
    expect(String(all.args.text)).toContain('`&lt;!channel&gt; &lt;@U0EVIL0001&gt; &lt;https://evil.example|bank&gt;`');

    await slash(`budget ${FORMATTED_ID}`);
    const one = await h.fake.waitFor((c) => c.method === 'response_url' && c !== all && String(c.args.text).includes('Spend against caps'));
    expectValidMessage(received(one));
    expect(String(one.args.text)).toContain(FORMATTED_SHOWN);

    // An unknown agent is echoed back, escaped too.
    await slash('budget <!channel>*evil bold*');
    const unknown = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('No agent'));
    expectValidMessage(received(unknown));
  });

  it('stays inert in the supervised-review reminder and its escalation', async () => {
    const e = act(HOSTILE_ID, 'tickets.create');
    expect(await h.client.authorize(e)).toMatchObject({ decision: 'allow', tier: 'supervised' });
    const card = await h.card(e.id);
    expectValidMessage({ text: card.text, blocks: card.blocks ?? [] });
    const reminder = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.thread_ts === card.ts && String(c.args.text).includes('still needs a review'));
    expectValidMessage(received(reminder));
    expect(String(reminder.args.text)).toContain(`<@${APPROVER}>`);
    const escalation = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === GOVERNANCE && String(c.args.text).includes('unreviewed'));
    expectValidMessage(received(escalation));
  });

  it('stays inert in the promotion proposal', async () => {
    const rows = Array.from({ length: 100 }, () => ({ id: randomUUID(), status: 'approved', agent_id: FORMATTED_ID, agent_owner: OWNER, action_type: 'crm.read', decided_by: 'policy' }));
    await h.sql`insert into escalations ${h.sql(rows)}`;
    const modes = new Queue(MODES_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      const job = await modes.add('check', {}, { removeOnComplete: false });
      await eventually(async () => ((await job.getState()) === 'completed' ? true : undefined), 'modes check completed');
    } finally {
      await modes.close();
    }
    const proposal = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? []).includes(ACTION_ACCEPT_PROMOTION));
    expectValidMessage(received(proposal));
    expect(String(proposal.args.text)).toContain(`Promotion proposed: ${FORMATTED_SHOWN}`);
  });
});
