import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARD_MAX_FAILURES, CARD_RETRY_MAX_MS } from '../../src/queue/backoff.js';
import type { FakeCall } from '../support/fake-slack.js';
import { REFUNDS_CHANNEL, exampleConfigText, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';

// Slack's per-channel pace lifted (as in the storm that was measured), so what the test sees is the retry delays alone;
// the channel digest off, since cards held back by the storm would otherwise go into one (channel-burst.test.ts).
const config = exampleConfigText
  .replace('postsPerSecondPerChannel: 1', 'postsPerSecondPerChannel: 100')
  .replace('postBurst: 3', 'postBurst: 10')
  .replace('  # digest: { backlog: 20, updateSeconds: 10 }', '  digest: { backlog: 0 }');
/** policy.alertChannel of the example config. */
const ALERT_CHANNEL = 'C0GOVERN01';
const CARDS = 30;
/**
 * The retries' own work once they are due (look for a crashed post's card,
 * post, record), all 30 at once on a busy 2-core machine (ms). Counting
 * attemptsStarted, the same storm left cards waiting 40 s and more.
 */
const WORK_MARGIN_MS = 8_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config });
});
afterAll(async () => {
  await h?.close();
});

const escalationOf = (c: FakeCall) => (c.args.metadata as { event_payload?: { escalation_id?: string } } | undefined)?.event_payload?.escalation_id;
const cardPosts = () => h.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.channel === REFUNDS_CHANNEL);
const storedCards = (ids: Set<string>) => h.fake.messages(REFUNDS_CHANNEL).filter((m) => ids.has(String(m.metadata?.event_payload.escalation_id)));
/** Resolves once `cond` holds, checked at each call the fake Slack receives; a timeout names `what`. */
const untilCalls = (what: string, cond: () => boolean, timeoutMs: number) =>
  h.fake.waitFor(() => cond(), timeoutMs).catch((err: Error) => {
    throw new Error(`waiting for ${what}: ${err.message}`);
  });

describe('a Slack error storm', () => {
  it('posts every card exactly once, within seconds of Slack answering again, after a run of 429s and then 500s', async () => {
    const batch = Array.from({ length: CARDS }, () => makeEscalation());
    const ids = new Set(batch.map((e) => e.id));
    h.fake.fail429('chat.postMessage', { channel: REFUNDS_CHANNEL, retryAfterSec: 1, times: Number.POSITIVE_INFINITY });
    await Promise.all(batch.map((e) => h.enqueue(e)));
    // Each card waits its turn and its Retry-After several times: BullMQ starts its job each time (attemptsStarted 6 would back the first 500 off for 32 s or more).
    await eventually(async () => {
      const jobs = await Promise.all(batch.map((e) => h.queue.getJob(e.id)));
      return jobs.every((j) => (j?.attemptsStarted ?? 0) >= 6) || undefined;
    }, 'every card job started 6 times', 60_000);
    h.fake.clearFaults('chat.postMessage');
    h.fake.fail500('chat.postMessage', { channel: REFUNDS_CHANNEL, times: Number.POSITIVE_INFINITY });
    const before500 = cardPosts().length;
    // Every card fails for real at least once, and is backed off.
    await untilCalls('every card answered 500', () => new Set(cardPosts().slice(before500).map(escalationOf)).size === CARDS, 60_000);
    const recoveredAt = h.fake.clearFaults('chat.postMessage');
    // Calls are logged as they are answered, so every one from here on was answered 200.
    const firstAnswered = h.fake.calls.length;
    expect(storedCards(ids)).toHaveLength(0);

    await untilCalls('every card posted', () => storedCards(ids).length === CARDS, CARD_RETRY_MAX_MS + WORK_MARGIN_MS + 40_000);
    // Exactly once: one card in the channel per escalation, from one post after the storm.
    const cards = storedCards(ids);
    expect(new Set(cards.map((m) => m.metadata?.event_payload.escalation_id)).size).toBe(CARDS);
    const after = h.fake.calls.slice(firstAnswered).filter((c) => c.method === 'chat.postMessage' && ids.has(String(escalationOf(c))));
    expect(after).toHaveLength(CARDS);
    // No card waited out a long backoff once Slack answered: at most one capped retry delay.
    const latest = Math.max(...after.map((c) => c.at));
    expect(latest - recoveredAt).toBeLessThanOrEqual(CARD_RETRY_MAX_MS + WORK_MARGIN_MS);

    const rows = await eventually(async () => {
      const r = await h.sql<{ id: string; card_ts: string }[]>`select id, card_ts from escalations where id in ${h.sql([...ids])} and card_state = 'posted'`;
      return r.length === CARDS ? r : undefined;
    }, 'every card recorded');
    expect(new Set(rows.map((r) => r.card_ts))).toEqual(new Set(cards.map((m) => m.ts)));
    const [failed] = await h.sql`select count(*)::int as n from events where escalation_id in ${h.sql([...ids])} and type = 'card_post_failed'`;
    expect(failed!.n).toBe(0);
  }, 120_000);

  it('gives up a card Slack refuses for good after one try: a card_post_failed record and an alert, the escalation left to its fail-safe deadline', async () => {
    h.fake.failWith('chat.postMessage', { channel: REFUNDS_CHANNEL, error: 'channel_not_found', times: Number.POSITIVE_INFINITY });
    try {
      const e = makeEscalation();
      await h.enqueue(e);
      const alert = await h.fake.waitFor(
        (c) => c.method === 'chat.postMessage' && c.args.channel === ALERT_CHANNEL && String(c.args.text).includes(e.id),
        20_000,
      );
      expect(alert.args.text).toContain('channel_not_found');

      const [failed, ...more] = await h.sql`select data from events where escalation_id = ${e.id} and type = 'card_post_failed'`;
      expect(more).toHaveLength(0);
      expect(failed!.data).toMatchObject({ channel: REFUNDS_CHANNEL, error: 'channel_not_found', failures: 1 });
      // One try: Slack said no, so it was not asked again.
      expect(cardPosts().filter((c) => escalationOf(c) === e.id)).toHaveLength(1);
      const [row] = await h.sql`select status, card_state from escalations where id = ${e.id}`;
      expect(row).toEqual({ status: 'pending', card_state: 'none' });
      const posted = await eventually(async () => {
        const [r] = await h.sql`select data from events where type = 'alert_posted' and data->>'escalationId' = ${e.id}`;
        return r;
      }, 'the alert recorded');
      expect(posted.data).toMatchObject({ kind: 'card_post_failed', cardChannel: REFUNDS_CHANNEL, channel: ALERT_CHANNEL, error: 'channel_not_found' });
    } finally {
      h.fake.clearFaults('chat.postMessage');
    }
  }, 60_000);

  it('gives up a card after CARD_MAX_FAILURES real failures, with a card_post_failed record and an alert', async () => {
    h.fake.fail500('chat.postMessage', { channel: REFUNDS_CHANNEL, times: Number.POSITIVE_INFINITY });
    try {
      const e = makeEscalation();
      // The job as a long outage leaves it: one real failure short of giving up (its count lives in the job's progress).
      const job = await h.queue.add('escalation', e, { jobId: e.id, delay: 3_600_000 });
      await job.updateProgress({ failures: CARD_MAX_FAILURES - 1, cardFailures: CARD_MAX_FAILURES - 1 });
      await job.promote();
      const alert = await h.fake.waitFor(
        (c) => c.method === 'chat.postMessage' && c.args.channel === ALERT_CHANNEL && String(c.args.text).includes(e.id),
        20_000,
      );
      expect(alert.args.text).toContain('statusCode = 500');
      const [failed, ...more] = await h.sql`select data from events where escalation_id = ${e.id} and type = 'card_post_failed'`;
      expect(more).toHaveLength(0);
      expect(failed!.data).toMatchObject({ channel: REFUNDS_CHANNEL, failures: CARD_MAX_FAILURES });
      expect(cardPosts().filter((c) => escalationOf(c) === e.id)).toHaveLength(1);
      expect(await job.getState()).toBe('completed');
    } finally {
      h.fake.clearFaults('chat.postMessage');
    }
  }, 60_000);
});
