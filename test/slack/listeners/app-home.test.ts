import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, APPROVER_2, OWNER, SIGNING_SECRET, exampleConfigText, makeEscalation, startHarness, type Harness } from '../../support/harness.js';
import { blockActionsBody, blockActionsPayload, eventCallbackBody, postSigned, slashCommandBody } from '../../support/slack-signing.js';
import { eventually } from '../../support/services.js';
import { expectValidView } from '../../support/slack-limits.js';

/** One person in the rotation: APPROVER is on call for the default route on any date after the start. */
const START = '2026-01-01';
const config = exampleConfigText
  .replace('schedules:\n', `schedules:\n  ops:\n    layers:\n      - name: main\n        rotation: { users: [${APPROVER}], kind: custom, intervalHours: 8760, handoff: "00:00", timezone: UTC, start: "${START}" }\n`)
  .replace('  - name: default\n    channel: C0GENERAL1\n', '  - name: default\n    channel: C0GENERAL1\n    schedules: [ops]\n');

let h: Harness;
beforeAll(async () => {
  expect(config).toContain('schedules: [ops]');
  h = await startHarness({ config });
});
afterAll(async () => {
  await h?.close();
});

const openHome = (user: string) =>
  postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, eventCallbackBody({ type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home' }), 'application/json');

describe('App Home', () => {
  it("lists the approvals waiting for an approver, with the card's buttons, and none for the agent's owner", async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    await h.card(e.id);
    expect((await openHome(APPROVER)).status).toBe(200);
    const published = await h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === APPROVER);
    const view = JSON.stringify(published.args.view);
    expect(view).toContain(e.id);
    expect(view).toContain('countersign.approve');
    expect(view).toContain('waiting for you');
    // The example refund of $340 is irreversible: Approve asks first, here as on the card.
    expect(view).toContain('Approve `payments.refund` of $340.00? It is irreversible: once the agent runs it, it cannot be undone.');

    await openHome(OWNER);
    const owners = await h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === OWNER);
    expect(JSON.stringify(owners.args.view)).toContain('Nothing waiting for you');
  });

  it('shows my reviews in progress, my on-call status and the agents by mode with their error rates', async () => {
    for (let i = 0; i < 3; i++) {
      const e = makeEscalation({ confidence: 0.95, issueType: 'support', action: { type: 'crm.read', params: { customerId: `C-${i}` }, reversible: true } });
      expect(await h.client.authorize(e)).toMatchObject({ decision: 'allow' });
    }
    await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, slashCommandBody({ command: '/countersign', text: 'review support-agent 100', userId: APPROVER, channelId: 'C0GENERAL1', responseUrl: h.fake.responseUrl }));
    const dm = `D${APPROVER.slice(1)}`;
    const card = await eventually(async () => h.fake.messages(dm).find((m) => m.text.startsWith('Review:')), 'a review card');
    const button = (card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>).flatMap((b) => b.elements ?? []).find((b) => b.action_id === 'countersign.sample_correct')!;
    await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(blockActionsPayload({ userId: APPROVER, channel: dm, messageTs: card.ts, actionId: button.action_id, value: button.value })));
    await eventually(async () => ((await h.sql`select count(verdict)::int as n from review_sample_items`)[0]!.n === 1 ? true : undefined), 'the verdict');

    const before = h.fake.callsTo('views.publish').length;
    await openHome(APPROVER);
    const published = await h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === APPROVER && h.fake.callsTo('views.publish').indexOf(c) >= before);
    const view = published.args.view as { blocks: unknown[] };
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('*Your reviews in progress*');
    expect(text).toContain('`support-agent`: *1 of 3 reviewed*');
    expect(text).toContain('cards in your DM with me');
    expect(text).toContain('*On call now* (primary) for route `default`');
    expect(text).toContain('*Agents by mode*');
    expect(text).toMatch(/\*exception-only review\*\\n[^"]*`support-agent`: error rate 0% \(0 errors in 3 actions\)/);

    await openHome(APPROVER_2);
    const other = await h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === APPROVER_2);
    const otherText = JSON.stringify(other.args.view);
    expect(otherText).toContain('None. `/countersign review` draws a sample.');
    expect(otherText).toContain('You are not on call now, and not next.');
  });

  it('keeps a masked email inside a bold title from breaking the bold, and shows an agent’s formatting as typed', async () => {
    const base = makeEscalation();
    const e = makeEscalation({
      agent: { ...base.agent, name: 'Support Agent *bold* `code`' },
      action: { ...base.action, summary: 'Grant billing-admin to jane.doe@example.com' },
    });
    await h.enqueue(e);
    await h.card(e.id);
    const before = h.fake.callsTo('views.publish').length;
    await openHome(APPROVER);
    const published = await h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === APPROVER && h.fake.callsTo('views.publish').indexOf(c) >= before);
    const view = published.args.view as Record<string, unknown>;
    expectValidView(view);
    const text = JSON.stringify(view);
    expect(text).toContain('*Grant billing-admin to j∗∗∗@example.com*');
    expect(text).toContain('by Support Agent ∗bold∗ ˋcodeˋ');
  });
});
