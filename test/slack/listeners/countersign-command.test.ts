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
