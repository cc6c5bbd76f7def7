import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, API_TOKEN, exampleConfigText, makeEscalation, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';

/** Slack's pace lifted, so that every card job reaches chat.postMessage at once. */
const config = exampleConfigText.replace('postsPerSecondPerChannel: 1\n', 'postsPerSecondPerChannel: 1000\n').replace('postBurst: 3\n', 'postBurst: 1000\n');
const CONCURRENCY = 4;
const CARDS = 12;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config, env: { METRICS_PORT: '0', WORKER_CONCURRENCY: String(CONCURRENCY) } });
});
afterAll(async () => {
  await h?.close();
});

const scrape = async () => (await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).text();
const valueOf = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('/metrics, intake taken ahead of its turn', () => {
  it('shows the escalation jobs a process holds waiting for their turn, which BullMQ counts as active, and how long the oldest has waited', async () => {
    expect(config).toContain('postsPerSecondPerChannel: 1000');
    // Slack holds every card post until released: WORKER_CONCURRENCY jobs run, the rest wait in the process.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const unhook = h.fake.onCall('chat.postMessage', () => released);
    try {
      const ids: string[] = [];
      for (let i = 0; i < CARDS; i++) {
        const e = makeEscalation();
        ids.push(e.id);
        await h.enqueue(e);
      }
      // A scrape reads the queues from Redis before this process's own counts: both settle in one scrape.
      const held = await eventually(async () => {
        const text = await scrape();
        const settled =
          valueOf(text, 'countersign_intake_ahead_jobs') === CARDS - CONCURRENCY &&
          valueOf(text, 'countersign_queue_jobs{queue="escalations",state="active"}') === CARDS &&
          valueOf(text, 'countersign_queue_jobs{queue="escalations",state="waiting"}') === 0;
        return settled ? text : undefined;
      }, `${CARDS - CONCURRENCY} jobs waiting for their turn, all ${CARDS} active in BullMQ`);
      expect(valueOf(held, 'countersign_intake_ahead_oldest_seconds')).toBeGreaterThan(0);
      release();
      await eventually(async () => {
        const rows = await h.sql`select count(*)::int as n from escalations where id = any(${ids}::uuid[]) and card_state = 'posted'`;
        return rows[0]!.n === CARDS ? true : undefined;
      }, 'every card posted');
      const after = await scrape();
      expect(valueOf(after, 'countersign_intake_ahead_jobs')).toBe(0);
      expect(valueOf(after, 'countersign_intake_ahead_oldest_seconds')).toBe(0);
    } finally {
      release();
      unhook();
    }
  });
});
