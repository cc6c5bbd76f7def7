import { isValidSlackRequest, verifySlackRequest } from '@slack/bolt';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACTION_APPROVE } from '../../src/slack/cards/view-model.js';
import { APPROVER, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';
import { blockActionsBody, blockActionsPayload, postSigned, signSlackRequest } from '../support/slack-signing.js';
import type { StoredMessage } from '../support/fake-slack.js';
import { excessiveSkewSec } from '../../src/slack/app.js';

// Slack's documented example (shared/slack-notes.md, "Request signing").
const VECTOR = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: 1531420618,
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
    '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
    '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
} as const;
const AT_VECTOR_MS = VECTOR.timestamp * 1000;

/** Exactly the call Bolt's HTTPReceiver makes (parseAndVerifyHTTPRequest → verifySlackRequest). */
function valid(o: { body?: string; signature?: string; timestamp?: number; nowMs?: number; secret?: string } = {}): boolean {
  return isValidSlackRequest({
    signingSecret: o.secret ?? VECTOR.secret,
    body: o.body ?? VECTOR.body,
    headers: { 'x-slack-signature': o.signature ?? VECTOR.signature, 'x-slack-request-timestamp': o.timestamp ?? VECTOR.timestamp },
    nowMilliseconds: o.nowMs ?? AT_VECTOR_MS,
  });
}

/** The string with the character at `i` replaced by a different one from `alphabet`. */
function changeOne(s: string, i: number, pick: number, alphabet: string): string {
  const choices = alphabet.replace(s[i]!, '');
  return s.slice(0, i) + choices[pick % choices.length]! + s.slice(i + 1);
}
const FORM_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789%&=._-';
const HEX = '0123456789abcdef';

describe("Slack's documented signing vector", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is what our own test signer produces, so every signed request in the suite is signed the way Slack signs', () => {
    expect(signSlackRequest(VECTOR.secret, VECTOR.body, VECTOR.timestamp)).toEqual({
      'x-slack-request-timestamp': String(VECTOR.timestamp),
      'x-slack-signature': VECTOR.signature,
    });
  });

  it('is accepted by the verification Bolt runs, with the clock at the moment it was signed', () => {
    expect(valid()).toBe(true);
    expect(() =>
      verifySlackRequest({
        signingSecret: VECTOR.secret,
        body: VECTOR.body,
        headers: { 'x-slack-signature': VECTOR.signature, 'x-slack-request-timestamp': VECTOR.timestamp },
        nowMilliseconds: AT_VECTOR_MS,
      }),
    ).not.toThrow();
  });

  it('is accepted on 2018-07-12 by the system clock too (faked), as Bolt reads it when no time is passed', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2018-07-12T18:40:00Z'));
    expect(Math.abs(Date.now() / 1000 - VECTOR.timestamp)).toBeLessThan(300);
    const headers = { 'x-slack-signature': VECTOR.signature, 'x-slack-request-timestamp': VECTOR.timestamp };
    expect(isValidSlackRequest({ signingSecret: VECTOR.secret, body: VECTOR.body, headers })).toBe(true);
    expect(() => verifySlackRequest({ signingSecret: VECTOR.secret, body: VECTOR.body, headers })).not.toThrow();
  });

  it('is rejected with any single character of the body changed', () => {
    fc.assert(
      fc.property(fc.nat({ max: VECTOR.body.length - 1 }), fc.nat(), (i, pick) => {
        expect(valid({ body: changeOne(VECTOR.body, i, pick, FORM_CHARS) })).toBe(false);
      }),
      { numRuns: 500 },
    );
    // And the simplest edits of all: one byte more, one byte less.
    expect(valid({ body: `${VECTOR.body} ` })).toBe(false);
    expect(valid({ body: VECTOR.body.slice(0, -1) })).toBe(false);
  });

  it('is rejected with any single hex digit of the signature changed', () => {
    const prefix = 'v0='.length;
    fc.assert(
      fc.property(fc.nat({ max: VECTOR.signature.length - prefix - 1 }), fc.nat(), (i, pick) => {
        expect(valid({ signature: changeOne(VECTOR.signature, prefix + i, pick, HEX) })).toBe(false);
      }),
      { numRuns: 500 },
    );
    expect(valid({ signature: VECTOR.signature.replace('v0=', 'v1=') })).toBe(false);
    expect(valid({ signature: VECTOR.signature.slice(0, -1) })).toBe(false);
  });

  it('is rejected under another secret or another timestamp', () => {
    expect(valid({ secret: `${VECTOR.secret}x` })).toBe(false);
    expect(valid({ timestamp: VECTOR.timestamp + 1 })).toBe(false);
  });

  it('is accepted up to 5 minutes after it was signed and rejected once it is older than that', () => {
    expect(valid({ nowMs: AT_VECTOR_MS + 300_000 })).toBe(true);
    expect(valid({ nowMs: AT_VECTOR_MS + 301_000 })).toBe(false);
    expect(valid({ nowMs: AT_VECTOR_MS + 6 * 60_000 })).toBe(false);
    expect(() =>
      verifySlackRequest({
        signingSecret: VECTOR.secret,
        body: VECTOR.body,
        headers: { 'x-slack-signature': VECTOR.signature, 'x-slack-request-timestamp': VECTOR.timestamp },
        nowMilliseconds: AT_VECTOR_MS + 6 * 60_000,
      }),
    ).toThrow(/stale/);
  });

  it('is rejected once older than 5 minutes by the system clock too (faked)', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(AT_VECTOR_MS + 6 * 60_000);
    const headers = { 'x-slack-signature': VECTOR.signature, 'x-slack-request-timestamp': VECTOR.timestamp };
    expect(isValidSlackRequest({ signingSecret: VECTOR.secret, body: VECTOR.body, headers })).toBe(false);
  });
});

describe('the request timestamp window, either way (excessiveSkewSec)', () => {
  const NOW_MS = AT_VECTOR_MS;
  const at = (offsetSec: number) => String(VECTOR.timestamp + offsetSec);

  it('accepts stamps up to 5 minutes behind or ahead of our clock', () => {
    for (const offset of [-300, -1, 0, 240, 300]) expect(excessiveSkewSec(at(offset), NOW_MS)).toBeUndefined();
  });

  it('refuses stamps further than that, giving the skew in seconds', () => {
    expect(excessiveSkewSec(at(301), NOW_MS)).toBe(301);
    expect(excessiveSkewSec(at(600), NOW_MS)).toBe(600);
    expect(excessiveSkewSec(at(7 * 86_400), NOW_MS)).toBe(7 * 86_400);
    expect(excessiveSkewSec(at(-301), NOW_MS)).toBe(-301);
  });

  it('leaves a missing or malformed stamp to Bolt, which refuses it', () => {
    expect(excessiveSkewSec(undefined, NOW_MS)).toBeUndefined();
    expect(excessiveSkewSec('soon', NOW_MS)).toBeUndefined();
  });
});

describe('the running bot, on /slack/events', () => {
  let h: Harness;
  let card: StoredMessage;
  let escalationId: string;
  let url: string;
  /** A click by an allowed approver on the live card: acting on it would decide the escalation. */
  let approveBody: string;

  beforeAll(async () => {
    h = await startHarness();
    url = `${h.baseUrl}/slack/events`;
    const e = makeEscalation();
    escalationId = e.id;
    await h.enqueue(e);
    card = await h.card(e.id);
    const blocks = card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>;
    const approve = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === ACTION_APPROVE)!;
    approveBody = blockActionsBody(
      blockActionsPayload({ userId: APPROVER, channel: 'C0REFUNDS1', messageTs: card.ts, actionId: ACTION_APPROVE, value: approve.value }),
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  const form = 'application/x-www-form-urlencoded';
  const decisionEvents = async () =>
    (
      await h.sql<{ n: number }[]>`
        select count(*)::int as n from events
        where escalation_id = ${escalationId} and type in ('decision_attempted', 'decision_refused', 'decision_made')`
    )[0]!.n;
  const statusOf = async (id: string) => (await h.sql<{ status: string }[]>`select status from escalations where id = ${id}`)[0]?.status;
  const expectUntouched = async () => {
    expect(await statusOf(escalationId)).toBe('pending');
    expect(await decisionEvents()).toBe(0);
    expect(h.fake.callsTo('chat.update')).toHaveLength(0);
    expect(h.fake.callsTo('chat.postEphemeral')).toHaveLength(0);
  };

  it('answers 401 to an unsigned click, and nothing changes', async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': form }, body: approveBody });
    expect(res.status).toBe(401);
    await expectUntouched();
  });

  it('answers 401 to a click signed with the wrong secret, and nothing changes', async () => {
    const res = await postSigned(url, 'not-the-signing-secret', approveBody);
    expect(res.status).toBe(401);
    await expectUntouched();
  });

  it('answers 401 to a click whose body was changed after signing, and nothing changes', async () => {
    const headers = signSlackRequest(SIGNING_SECRET, approveBody);
    const tampered = approveBody.replace(APPROVER, 'U0APPROVER2');
    expect(tampered).not.toBe(approveBody);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': form, ...headers }, body: tampered });
    expect(res.status).toBe(401);
    await expectUntouched();
  });

  it('answers 401 to a correctly signed click whose timestamp is 6 minutes old (a replay), and nothing changes', async () => {
    const res = await postSigned(url, SIGNING_SECRET, approveBody, form, { timestampSec: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(res.status).toBe(401);
    await expectUntouched();
  });

  it('answers 401 to a correctly signed click stamped 10 minutes ahead (Bolt refuses only old stamps), and nothing changes', async () => {
    const res = await postSigned(url, SIGNING_SECRET, approveBody, form, { timestampSec: Math.floor(Date.now() / 1000) + 10 * 60 });
    expect(res.status).toBe(401);
    await expectUntouched();
  });

  it('answers 401 to a correctly signed click stamped 7 days ahead, and nothing changes', async () => {
    const res = await postSigned(url, SIGNING_SECRET, approveBody, form, { timestampSec: Math.floor(Date.now() / 1000) + 7 * 86_400 });
    expect(res.status).toBe(401);
    await expectUntouched();
  });

  it('answers 401 to a signature header without a timestamp header, and nothing changes', async () => {
    const { 'x-slack-signature': signature } = signSlackRequest(SIGNING_SECRET, approveBody);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': form, 'x-slack-signature': signature }, body: approveBody });
    expect(res.status).toBe(401);
    await expectUntouched();
  });

  it('answers 4xx to a signed body that is not JSON, and keeps serving', async () => {
    const res = await postSigned(url, SIGNING_SECRET, 'payload=%7Bnot json');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const health = await fetch(`${h.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    await expectUntouched();
  });

  it('answers 4xx to a signed JSON body that is not JSON either, and keeps serving', async () => {
    const res = await postSigned(url, SIGNING_SECRET, '{"type":"event_callback",', 'application/json');
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    await expectUntouched();
  });

  it('acknowledges a signed click on an action it does not know (200 or 404) and changes nothing', async () => {
    const blocks = card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>;
    const value = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === ACTION_APPROVE)!.value;
    const body = blockActionsBody(
      blockActionsPayload({ userId: APPROVER, channel: 'C0REFUNDS1', messageTs: card.ts, actionId: 'countersign.self_destruct', value }),
    );
    const res = await postSigned(url, SIGNING_SECRET, body);
    expect([200, 404]).toContain(res.status);
    await expectUntouched();
  });

  it('acts on a correctly signed click: 200, and the escalation is decided', async () => {
    const res = await postSigned(url, SIGNING_SECRET, approveBody);
    expect(res.status).toBe(200);
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    expect(await eventually(async () => ((await statusOf(escalationId)) === 'approved' ? true : undefined), 'the approval')).toBe(true);
  });

  it('still takes a new escalation to a card after all of the above: nothing crashed', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const next = await h.card(e.id);
    expect(next.ts).not.toBe(card.ts);
    expect(await statusOf(e.id)).toBe('pending');
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
  });

  it('acts on a correctly signed click stamped 4 minutes ahead, inside the window: a clock a little fast is not refused', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const next = await h.card(e.id);
    const blocks = next.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>;
    const approve = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === ACTION_APPROVE)!;
    const body = blockActionsBody(blockActionsPayload({ userId: APPROVER, channel: 'C0REFUNDS1', messageTs: next.ts, actionId: ACTION_APPROVE, value: approve.value }));
    const res = await postSigned(url, SIGNING_SECRET, body, form, { timestampSec: Math.floor(Date.now() / 1000) + 4 * 60 });
    expect(res.status).toBe(200);
    expect(await eventually(async () => ((await statusOf(e.id)) === 'approved' ? true : undefined), 'the approval')).toBe(true);
  });
});
