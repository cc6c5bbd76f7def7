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

  it('shows spend against each cap', async () => {
    await run('budget procurement-agent');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).includes('Spend against caps'));
    expect(String(reply.args.text)).toContain('`procurement-agent`: today $0.00 of $500.00 (0%)');
    expect(String(reply.args.text)).toContain('organisation this month: $0.00 of $20000.00');
  });

  it('checks an action against the policy in force', async () => {
    await run('policy {"agent":{"id":"support-agent"},"action":{"type":"payments.refund","params":{"amountUsd":600}}}');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('```') && String(c.args.text).includes('outcome:'));
    expect(String(reply.args.text)).toContain('rule:    policy.agents[0].actions[3].rules[0]');
    await run('policy not json');
    const bad = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('Cannot check that'));
    expect(String(bad.args.text)).toContain('Usage');
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
