import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../../support/harness.js';
import { postSigned, slashCommandBody } from '../../support/slack-signing.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const run = (text: string) =>
  postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    slashCommandBody({ command: '/countersign', text, userId: APPROVER, channelId: 'C0REFUNDS1', responseUrl: h.fake.responseUrl }),
  );

describe('/countersign', () => {
  it('answers help ephemerally', async () => {
    expect((await run('help')).status).toBe(200);
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).includes('/countersign status'));
    expect(reply.args.response_type).toBe('ephemeral');
  });

  it('says a subcommand is unknown and lists the real ones', async () => {
    await run('frobnicate now');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('There is no'));
    expect(reply.args.response_type).toBe('ephemeral');
    expect(String(reply.args.text)).toContain(
      'There is no `/countersign frobnicate` subcommand. The subcommands are `status`, `policy`, `budget`, `agent`, `review`, `report`, `oncall`, `override`, `audit`, `standing` and `help`.',
    );
  });

  it('shows spend against each cap', async () => {
    await run('budget procurement-agent');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).includes('Spend against caps'));
    expect(String(reply.args.text)).toContain('`procurement-agent`: today $0.00 of $500.00 (0%)');
    expect(String(reply.args.text)).toContain('organisation this month: $0.00 of $20,000.00');
  });

  it('checks an action against the policy in force', async () => {
    await run('policy {"agent":{"id":"support-agent"},"action":{"type":"payments.refund","params":{"amountUsd":600}}}');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('```') && String(c.args.text).includes('outcome:'));
    expect(String(reply.args.text)).toContain('rule:    policy.agents[0].actions[3].rules[0]');
    await run('policy not json');
    const bad = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('Cannot check that: it is not JSON'));
    expect(String(bad.args.text)).toContain('Usage');
  });

  it('names each invalid field of a policy check and what was expected, never zod\'s "["', async () => {
    await run('policy {"agent":"support-agent"}');
    const bad = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('Cannot check that:\n'));
    const text = String(bad.args.text);
    expect(text).toContain('• `agent`: Invalid input: expected object, received string');
    expect(text).toContain('• `action`: Required (expected object)');
    expect(text).not.toContain(': [');
  });

  it('shows the policy in force, readable, when given no argument', async () => {
    await run('policy');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('Policy in force'));
    const blocks = reply.args.blocks as Array<{ type: string; text?: { text: string } }>;
    // Mrkdwn as Slack receives it: `&gt;` shows as `>`.
    const all = blocks.map((b) => b.text?.text ?? '').join('\n');
    expect(all).not.toContain('Unexpected end of JSON');
    // Trigger thresholds.
    expect(all).toContain('*Low confidence*: below 0.70');
    expect(all).toContain('*High stakes*: `support-agent` `payments.refund` when amountUsd &gt; 2000; `billing-agent` `payments.payout` when amountUsd &gt; 5000');
    expect(all).toContain('*Repeated failure*: the same step failed 3 times without a success');
    // Budgets: the organisation's month, and each agent's task, day and week.
    expect(all).toContain('*Organisation*: $20,000.00 a month; alert at 120% of the $10,000.00 projection');
    expect(all).toContain('*Budgets*: per task $5.00 · per day $500.00 · per week $2,000.00');
    // Modes and the promotion bars.
    expect(all).toContain('post-action audit: 100 successful actions with an error rate under 2%');
    expect(all).toContain('exception-only review: 1,000 successful actions with an error rate under 1%');
    expect(all).toContain('*`support-agent`* · exception-only review (from `policy.agents[0].mode`)');
    expect(all).toContain('*`billing-agent`* · pre-action review');
    // Tiers and rules.
    expect(all).toContain('• `payments.refund`: *supervised*; restricted when amountUsd &gt; 500 (refund over $500); high stakes when amountUsd &gt; 2000');
    expect(all).toContain('• `data.delete*`: *denied* (the support agent never deletes data)');
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const b of blocks) expect((b.text?.text ?? '').length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(blocks).length).toBeLessThan(12_000);
  });

  it("shows one agent's policy by its id", async () => {
    await run('policy procurement-agent');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text) === 'Policy for procurement-agent');
    const all = (reply.args.blocks as Array<{ text?: { text: string } }>).map((b) => b.text?.text ?? '').join('\n');
    expect(all).toContain('• `purchases.create`: *autonomous*; restricted when amountUsd &gt; 250 (purchase over $250); denied when vendor in ["unknown","unvetted"] (unvetted vendor)');
    expect(all).not.toContain('support-agent');
  });

  it('says when last month had no agent activity, and points at the month in progress', async () => {
    // This harness's database holds only this month's escalations.
    await run('report');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('Governance review for'));
    const text = String(reply.args.text);
    const m = /^Governance review for (\d{4})-(\d{2}): no agent activity\. Try the month so far: `\/countersign report (\d{4})-(\d{2})`$/.exec(text);
    expect(m, text).not.toBeNull();
    const [, y, mo, ny, nmo] = m!.map(Number);
    expect(ny! * 12 + nmo!).toBe(y! * 12 + mo! + 1);
    expect(JSON.stringify(reply.args.blocks)).toContain(`No agent activity in ${m![1]}-${m![2]}.`);
  });

  it('tells where an escalation stands', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    await h.click(APPROVER, 'countersign.approve', card);
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    await run(`status ${e.id}`);
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).includes(e.id));
    expect(String(reply.args.text)).toContain(`*approved* by <@${APPROVER}>`);
  });
});
