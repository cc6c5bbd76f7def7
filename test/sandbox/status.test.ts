import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';

let fake: FakeSlack;
beforeAll(async () => {
  fake = await startFakeSlack({ sandbox: { signingSecret: 'unused', url: () => undefined } });
});
afterAll(async () => {
  await fake.close();
});

const api = async (method: string, user: string) =>
  (await (await fetch(`${fake.url}${method}`, { method: 'POST', headers: { authorization: 'Bearer xoxb-x', 'content-type': 'application/x-www-form-urlencoded' }, body: `user=${user}` })).json()) as Record<string, unknown>;
const setStatus = (user: string, status: string) =>
  fetch(`${fake.pageUrl}sandbox/status`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, status }) });

describe('the sandbox page’s Slack status', () => {
  it.each([
    ['away', 'away', false],
    ['dnd', 'active', true],
    ['active', 'active', false],
  ])('%s is what users.getPresence and dnd.info answer, and what the page shows', async (status, presence, dnd) => {
    expect((await setStatus('U0PAYOPS001', status)).status).toBe(200);
    expect(await api('users.getPresence', 'U0PAYOPS001')).toMatchObject({ presence });
    expect(await api('dnd.info', 'U0PAYOPS001')).toMatchObject({ dnd_enabled: dnd });
    const state = (await (await fetch(`${fake.pageUrl}sandbox/state?user=U0PAYOPS001`)).json()) as { availability: string };
    expect(state.availability).toBe(status);
  });

  it('refuses an unknown status', async () => {
    expect((await setStatus('U0PAYOPS001', 'asleep')).status).toBe(400);
  });
});
