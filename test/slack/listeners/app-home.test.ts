import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, OWNER, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../../support/harness.js';
import { eventCallbackBody, postSigned } from '../../support/slack-signing.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
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

    await openHome(OWNER);
    const owners = await h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === OWNER);
    expect(JSON.stringify(owners.args.view)).toContain('Nothing waiting for you');
  });
});
