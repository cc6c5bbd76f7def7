import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { App, LogLevel } from '@slack/bolt';
import { LogLevel as WebLogLevel, WebAPIHTTPError, WebAPIPlatformError, WebAPIRateLimitedError, WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import {
  blockActionsBody, blockActionsPayload, postSigned, signSlackRequest, slashCommandBody, viewSubmissionPayload,
} from './slack-signing.js';

let fake: FakeSlack;
let client: WebClient;
const meta = { event_type: 'countersign_card', event_payload: { request_id: 'req_1' } };

beforeEach(async () => {
  fake = await startFakeSlack();
  client = new WebClient('xoxb-test', {
    slackApiUrl: fake.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: WebLogLevel.ERROR,
  });
});
afterEach(async () => {
  await fake.close();
});

/** Settles-or-not probe: a short real wait is the only way to assert that something has *not* happened. */
const stillPending = (p: Promise<unknown>, ms = 150) =>
  Promise.race([p.then(() => false, () => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);

describe('fake Slack Web API', () => {
  it('answers auth.test with the bot identity and logs the bearer token', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0TEAM' });
    expect(fake.callsTo('auth.test')[0]?.token).toBe('xoxb-test');
  });

  it('stores posted messages and serves history newest first, with metadata only on request', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'Approve deploy?' } }];
    const first = await client.chat.postMessage({ channel: 'C1', text: 'card 1', blocks, metadata: meta });
    const second = await client.chat.postMessage({ channel: 'C1', text: 'card 2' });
    await client.chat.postMessage({ channel: 'C2', text: 'elsewhere' });

    expect(first.ts && second.ts && Number(second.ts) > Number(first.ts)).toBe(true);
    expect(first.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(fake.callsTo('chat.postMessage')[0]?.args.blocks).toEqual(blocks);
    expect(fake.messages('C1').map((m) => m.text)).toEqual(['card 1', 'card 2']);
    expect(fake.message('C1', first.ts!)).toMatchObject({ blocks, metadata: meta, bot_id: 'BBOT' });

    const withMeta = await client.conversations.history({ channel: 'C1', include_all_metadata: true });
    expect(withMeta.messages?.map((m) => m.text)).toEqual(['card 2', 'card 1']);
    expect(withMeta.messages?.[1]?.metadata).toEqual(meta);
    const without = await client.conversations.history({ channel: 'C1' });
    expect(without.messages?.some((m) => 'metadata' in m)).toBe(false);

    const bounded = await client.conversations.history({ channel: 'C1', oldest: first.ts, limit: 10 });
    expect(bounded.messages?.map((m) => m.ts)).toEqual([second.ts]);
    const page = await client.conversations.history({ channel: 'C1', limit: 1 });
    expect(page).toMatchObject({ has_more: true, messages: [{ ts: second.ts }] });
  });

  it('updates by channel+ts and reports message_not_found otherwise', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'pending' });
    const res = await client.chat.update({ channel: 'C1', ts: ts!, text: 'approved', blocks: [] });
    expect(res.message).toMatchObject({ text: 'approved', edited: { user: 'UBOT' } });
    expect(fake.message('C1', ts!)?.text).toBe('approved');
    await expect(client.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' })).rejects.toMatchObject({
      data: { error: 'message_not_found' },
    });
  });

  it('raises WebAPIRateLimitedError with retryAfter on 429, scoped by channel and count', async () => {
    fake.fail429('chat.postMessage', { channel: 'C1', retryAfterSec: 7, times: 1 });
    await expect(client.chat.postMessage({ channel: 'C2', text: 'other channel' })).resolves.toMatchObject({ ok: true });
    const err = await client.chat.postMessage({ channel: 'C1', text: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect((err as WebAPIRateLimitedError).retryAfter).toBe(7);
    expect(fake.messages('C1')).toHaveLength(0);
    await expect(client.chat.postMessage({ channel: 'C1', text: 'hi' })).resolves.toMatchObject({ ok: true });
    expect(fake.callsTo('chat.postMessage')).toHaveLength(3);
  });

  it('raises WebAPIPlatformError for failWith and WebAPIHTTPError for fail500', async () => {
    fake.failWith('chat.postMessage', { error: 'channel_not_found', times: 2 });
    for (let i = 0; i < 2; i++) {
      const err = await client.chat.postMessage({ channel: 'C9', text: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WebAPIPlatformError);
      expect((err as WebAPIPlatformError).data.error).toBe('channel_not_found');
    }
    fake.fail500('chat.update');
    const err = await client.chat.update({ channel: 'C9', ts: '1.0', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebAPIHTTPError);
    expect((err as WebAPIHTTPError).statusCode).toBe(500);
    await expect(client.apiCall('no.such.method')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
  });

  it('keeps a fault given Infinity times until clearFaults, which returns that instant by the calls\' clock', async () => {
    fake.fail500('chat.postMessage', { times: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 3; i++) await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toBeInstanceOf(WebAPIHTTPError);
    const cleared = fake.clearFaults('chat.postMessage');
    await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).resolves.toMatchObject({ ok: true });
    const calls = fake.callsTo('chat.postMessage');
    expect(calls.slice(0, 3).every((c) => c.at <= cleared)).toBe(true);
    expect(calls[3]!.at).toBeGreaterThanOrEqual(cleared);
    expect(fake.messages('C1')).toHaveLength(1);
  });

  it("'hold' applies the effect but never answers, until close()", async () => {
    fake.onCall('chat.postMessage', () => 'hold');
    const posting = client.chat.postMessage({ channel: 'C1', text: 'card', metadata: meta });
    posting.catch(() => {}); // rejects once the socket is destroyed by close()
    await fake.waitFor('chat.postMessage');
    expect(fake.messages('C1')).toHaveLength(1);
    expect(await stillPending(posting)).toBe(true);

    // The bot "restarts" and reconciles from history instead of posting again.
    const history = await client.conversations.history({ channel: 'C1', include_all_metadata: true });
    expect(history.messages?.[0]?.metadata).toEqual(meta);
    await fake.close();
    await expect(posting).rejects.toThrow();
  });

  it('waitFor resolves on a later call and times out listing recent calls', async () => {
    const waiting = fake.waitFor((c) => c.method === 'chat.update' && c.args.text === 'done');
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    await client.chat.update({ channel: 'C1', ts: ts!, text: 'done' });
    await expect(waiting).resolves.toMatchObject({ method: 'chat.update' });
    await expect(fake.waitFor('chat.delete', 1, 50)).rejects.toThrow(/waiting for 1× chat\.delete \(saw 0\)[\s\S]*chat\.update/);
  });

  it('serves directory data: DMs, usergroups, users, presence and dnd', async () => {
    fake.setUsergroup('S1', ['U1', 'U2']);
    fake.setPresence('U2', 'away');
    fake.setDnd('U2', { dnd_enabled: true, next_dnd_end_ts: 1900000000 });
    expect((await client.conversations.open({ users: 'U1' })).channel?.id).toBe('D1');
    expect((await client.usergroups.users.list({ usergroup: 'S1' })).users).toEqual(['U1', 'U2']);
    expect((await client.users.info({ user: 'U1' })).user).toMatchObject({ id: 'U1', deleted: false });
    expect((await client.users.getPresence({ user: 'U1' })).presence).toBe('active');
    expect((await client.users.getPresence({ user: 'U2' })).presence).toBe('away');
    expect(await client.dnd.info({ user: 'U1' })).toMatchObject({ dnd_enabled: false });
    expect(await client.dnd.info({ user: 'U2' })).toMatchObject({ dnd_enabled: true, next_dnd_end_ts: 1900000000 });
    const { view } = await client.views.open({ trigger_id: 't', view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] } });
    expect(view?.id).toMatch(/^V/);
    const dm = await client.chat.postMessage({ channel: 'U1', text: 'dm' });
    expect(fake.messages('D1')).toHaveLength(1);
    // chat.getPermalink: Slack's archive link for a stored message, message_not_found otherwise.
    expect((await client.chat.getPermalink({ channel: 'D1', message_ts: dm.ts! })).permalink).toBe(`https://countersign-test.slack.com/archives/D1/p${dm.ts!.replace('.', '')}`);
    await expect(client.chat.getPermalink({ channel: 'D1', message_ts: '1.000000' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    fake.reset();
    expect(fake.calls).toHaveLength(0);
    expect(fake.messages('D1')).toHaveLength(0);
  });
});

it('matches Slack’s documented signature test vector', () => {
  const body = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)['x-slack-signature']).toBe(
    'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
  );
});

// Bolt fires auth.test from its constructor; every test here makes a round-trip, so it has settled before close().
describe('slack-signing helpers against a real Bolt HTTPReceiver', () => {
  const secret = 'test-signing-secret';
  let app: App;
  let events: string;

  beforeEach(async () => {
    app = new App({
      token: 'xoxb-test', signingSecret: secret, logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
    });
    app.action('approve', async ({ ack, body, client: c }) => {
      await ack();
      const b = body as { channel?: { id: string }; message?: { ts: string }; actions: Array<{ value: string }> };
      await c.chat.update({ channel: b.channel!.id, ts: b.message!.ts, text: `approved ${b.actions[0]?.value}` });
    });
    app.view('reason', async ({ ack, view }) => {
      await ack({ response_action: 'errors', errors: { why: `${view.private_metadata}:${view.state.values.why?.text?.value}` } });
    });
    app.command('/countersign', async ({ ack, command }) => ack(`hello ${command.user_id}`));
    const server = (await app.start(0)) as Server;
    events = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterEach(async () => {
    await app.stop();
  });

  it('drives block_actions, view_submission and slash commands end to end', async () => {
    const { ts } = await client.chat.postMessage({ channel: 'C1', text: 'card' });
    const payload = blockActionsPayload({ userId: 'U1', channel: 'C1', messageTs: ts!, actionId: 'approve', value: 'req_1' });
    expect((await postSigned(events, secret, blockActionsBody(payload))).status).toBe(200);
    await fake.waitFor((c) => c.method === 'chat.update' && c.args.text === 'approved req_1');
    expect(fake.message('C1', ts!)?.text).toBe('approved req_1');

    const sub = viewSubmissionPayload({ userId: 'U1', callbackId: 'reason', privateMetadata: 'req_1', values: { why: { text: 'because' } } });
    const res = await postSigned(events, secret, blockActionsBody(sub));
    expect(await res.json()).toEqual({ response_action: 'errors', errors: { why: 'req_1:because' } });

    const cmd = await postSigned(events, secret, slashCommandBody({ command: '/countersign', userId: 'U1', channelId: 'C1' }));
    expect(await cmd.text()).toBe('hello U1');
  });

  it('is rejected by Bolt with a bad signature or a charset suffix', async () => {
    const body = blockActionsBody(blockActionsPayload({ userId: 'U1', channel: 'C1', messageTs: '1.0', actionId: 'approve', value: 'v' }));
    expect((await postSigned(events, 'wrong-secret', body)).status).toBe(401);
    const charset = await fetch(events, {
      method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...signSlackRequest(secret, body) },
    });
    expect(charset.status).toBe(400);
  });
});
