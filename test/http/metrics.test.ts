import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, API_TOKEN, APPROVER, makeEscalation, makePurchase, type Harness } from '../support/harness.js';
import { startCallbackServer } from '../support/callback-server.js';
import { REDIS_URL, eventually } from '../support/services.js';
import { OUTCOMES_QUEUE } from '../../src/queue/names.js';

let h: Harness;
let cb: Awaited<ReturnType<typeof startCallbackServer>>;

beforeAll(async () => {
  h = await startHarness({ env: { METRICS_PORT: '0' } });
  cb = await startCallbackServer();
});
afterAll(async () => {
  await h?.close();
  await cb?.close();
});

const scrape = async (token = API_TOKEN) => fetch(`${h.baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** The value of one series in a Prometheus text exposition, or undefined when it is absent. */
function valueOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('answers 401 without a token from API_TOKENS, like the API', async () => {
    expect((await scrape('')).status).toBe(401);
    expect((await scrape('not-a-token')).status).toBe(401);
  });

  it('counts Slack calls by method and result, callbacks, and the time to a decision, and reads escalations by status and tier', async () => {
    const e = makeEscalation({ callback: { url: cb.url } });
    // Slack answers the first card with a 429, the agent's endpoint fails once.
    h.fake.fail429('chat.postMessage', { times: 1, retryAfterSec: 1 });
    cb.failNext(1);
    await h.enqueue(e);
    const card = await h.card(e.id);
    await h.click(APPROVER, 'countersign.approve', card);
    await cb.waitFor(e.id);
    const [row] = await h.sql`select tier from escalations where id = ${e.id}`;
    const tier = String(row!.tier);

    const text = await eventually(async () => {
      const body = await (await scrape()).text();
      return valueOf(body, 'countersign_callbacks_total{result="delivered"}') === 1 ? body : undefined;
    }, 'the delivered callback to be counted');
    expect(valueOf(text, 'countersign_callbacks_total{result="failed"}')).toBe(1);
    expect(valueOf(text, 'countersign_slack_calls_total{method="chat.postMessage",result="rate_limited"}')).toBe(1);
    expect(valueOf(text, 'countersign_slack_calls_total{method="chat.postMessage",result="ok"}')).toBeGreaterThanOrEqual(1);
    expect(valueOf(text, 'countersign_slack_calls_total{method="chat.update",result="ok"}')).toBeGreaterThanOrEqual(1);
    expect(valueOf(text, `countersign_time_to_decision_seconds_count{outcome="approved",tier="${tier}"}`)).toBe(1);
    expect(valueOf(text, `countersign_escalations{status="approved",tier="${tier}"}`), text.split('\n').filter((l) => l.includes('escalations')).join('\n')).toBe(1);
    expect(valueOf(text, 'countersign_audit_unsealed_age_seconds')).toBeGreaterThanOrEqual(0);
    for (const source of ['redis', 'postgres_escalations', 'postgres_audit']) expect(valueOf(text, `countersign_metrics_source_up{source="${source}"}`)).toBe(1);
  });

  it('reads each queue\'s depth and the age of its oldest waiting job at scrape time', async () => {
    // A paused queue keeps its job waiting.
    const outcomes = new Queue(OUTCOMES_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    await outcomes.pause();
    await outcomes.add('outcome', { note: 'waits while the queue is paused' });
    const text = await (await scrape()).text();
    await outcomes.close();
    expect(valueOf(text, 'countersign_queue_jobs{queue="outcomes",state="waiting"}'), text.split('\n').filter((l) => l.includes('outcomes')).join('\n')).toBe(1);
    expect(valueOf(text, 'countersign_queue_oldest_waiting_seconds{queue="outcomes"}')).toBeGreaterThan(0);
    expect(valueOf(text, 'countersign_queue_jobs{queue="reviews",state="waiting"}')).toBe(0);
    expect(valueOf(text, 'countersign_queue_oldest_waiting_seconds{queue="reviews"}')).toBe(0);
  });

  it('counts an agent paused by its hard budget cap', async () => {
    // The example's procurement agent: $500 a day, then paused.
    for (const amount of [240, 240]) expect(await h.client.authorize(makePurchase(amount))).toMatchObject({ decision: 'allow' });
    expect(await h.client.authorize(makePurchase(30))).toMatchObject({ decision: 'deny' });
    expect(await h.client.authorize(makePurchase(1))).toMatchObject({ decision: 'deny', code: 'budget_paused' });
    const text = await (await scrape()).text();
    expect(valueOf(text, 'countersign_budget_pauses_total{agent="procurement-agent"}')).toBe(1);
  });

  it('is served without a token on METRICS_PORT, and nothing else is', async () => {
    const base = `http://127.0.0.1:${h.bot.metricsPort}`;
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toContain('countersign_queue_jobs');
    expect((await fetch(`${base}/healthz`)).status).toBe(404);
  });
});
