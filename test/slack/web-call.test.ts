import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitedError, SlackCallError } from '../../src/errors.js';
import { createSlackPort, createWebClient } from '../../src/slack/web-port.js';
import type { SlackMessage, SlackPort } from '../../src/flow/ports.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';

const CHANNEL = 'C0WEBCALL1';
const card: SlackMessage = { text: 'Approve?', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Approve?' } }] };

let fake: FakeSlack;
let slack: SlackPort;

beforeAll(async () => {
  fake = await startFakeSlack();
  slack = createSlackPort(createWebClient({ token: 'xoxb-web-call', slackApiUrl: fake.url }));
});
afterAll(() => fake.close());

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('the card path’s Slack calls (lean JSON caller)', () => {
  it('posts a card with its blocks, metadata and bearer token, and returns its ts', async () => {
    const { ts } = await slack.postCard(CHANNEL, card, '7f1c2b9e-0000-4000-8000-000000000001');
    const call = await fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === CHANNEL);
    expect(call.token).toBe('xoxb-web-call');
    expect(call.args.blocks).toEqual(card.blocks);
    expect(call.args.metadata).toEqual({ event_type: expect.any(String), event_payload: { escalation_id: '7f1c2b9e-0000-4000-8000-000000000001' } });
    expect(fake.messages(CHANNEL).map((m) => m.ts)).toContain(ts);
  });

  it('updates a card in place', async () => {
    const { ts } = await slack.postCard(CHANNEL, card, '7f1c2b9e-0000-4000-8000-000000000002');
    await slack.updateCard(CHANNEL, ts, { text: 'Approved', blocks: [] });
    const call = await fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === ts);
    expect(call.args.text).toBe('Approved');
  });

  it('sends the clicker an ephemeral reply', async () => {
    await slack.ephemeral(CHANNEL, 'U0APPROVER1', 'Approved.');
    const call = await fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === 'U0APPROVER1');
    expect(call.args).toMatchObject({ channel: CHANNEL, text: 'Approved.' });
  });

  it('turns a 429 into RateLimitedError carrying Retry-After in ms', async () => {
    fake.fail429('chat.postMessage', { channel: CHANNEL, retryAfterSec: 3 });
    const err = await failure(slack.postCard(CHANNEL, card, '7f1c2b9e-0000-4000-8000-000000000003'));
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterMs).toBe(3000);
  });

  it('treats ok:false as a definite failure naming Slack’s error', async () => {
    fake.failWith('chat.postMessage', { channel: CHANNEL, error: 'channel_not_found' });
    const err = await failure(slack.postCard(CHANNEL, card, '7f1c2b9e-0000-4000-8000-000000000004'));
    expect(err).toBeInstanceOf(SlackCallError);
    expect(err).toMatchObject({ method: 'chat.postMessage', slackError: 'channel_not_found', definite: true });
  });

  it('treats a 500 as an indefinite failure (Slack may have acted)', async () => {
    fake.fail500('chat.update', { channel: CHANNEL });
    const err = await failure(slack.updateCard(CHANNEL, '1.000001', card));
    expect(err).toBeInstanceOf(SlackCallError);
    expect(err).toMatchObject({ method: 'chat.update', definite: false });
  });

  it('treats a refused connection as an indefinite failure', async () => {
    const dead = createSlackPort(createWebClient({ token: 'xoxb-web-call', slackApiUrl: 'http://127.0.0.1:9/api/' }));
    const err = await failure(dead.postCard(CHANNEL, card, '7f1c2b9e-0000-4000-8000-000000000005'));
    expect(err).toBeInstanceOf(SlackCallError);
    expect(err).toMatchObject({ method: 'chat.postMessage', definite: false });
  });
});
