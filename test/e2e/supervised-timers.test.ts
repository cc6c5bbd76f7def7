import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleConfigText, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';

/** A 1.2-second review SLA, so the reminder and the escalation happen within the test. */
const config = exampleConfigText.replace('supervisedReviewMinutes: 60', 'supervisedReviewMinutes: 0.02');
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ config });
});
afterAll(async () => {
  await h?.close();
});

describe('supervised review timers', () => {
  it('reminds in the card thread at the SLA and escalates to the alert channel at twice the SLA', async () => {
    const e = makeEscalation({ confidence: 0.95, action: { type: 'payments.refund', params: { amountUsd: 120 }, reversible: true } });
    expect(await h.client.authorize(e)).toMatchObject({ decision: 'allow', tier: 'supervised' });
    const card = await h.card(e.id);
    const reminder = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.thread_ts === card.ts);
    expect(String(reminder.args.text)).toContain('<@U0APPROVER1>');
    expect(String(reminder.args.text)).toContain('still needs a review');
    const escalation = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === 'C0GOVERN01' && String(c.args.text).includes('unreviewed'));
    expect(escalation.args.thread_ts).toBeUndefined();
    const types = await eventually(async () => {
      const rows = await h.sql<{ type: string }[]>`select type from events where escalation_id = ${e.id} and type like 'review_%' order by id`;
      return rows.length >= 2 ? rows.map((r) => r.type) : undefined;
    }, 'review timer events');
    expect(types).toEqual(['review_reminded', 'review_escalated']);
  });

  it('stays quiet once the action was reviewed', async () => {
    const e = makeEscalation({ confidence: 0.95, action: { type: 'payments.refund', params: { amountUsd: 80 }, reversible: true } });
    await h.client.authorize(e);
    const card = await h.card(e.id);
    await h.click('U0APPROVER1', 'countersign.review_ok', card);
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts && JSON.stringify(c.args.blocks).includes('reviewed as right'));
    // Wait for this escalation's own escalate timer (2 × SLA) to run, then check it posted nothing.
    const { Queue } = await import('bullmq');
    const reviews = new Queue('reviews', { connection: { url: 'redis://127.0.0.1:6379' }, prefix: h.prefix });
    try {
      await eventually(async () => {
        const job = await reviews.getJob(`review-escalate-${e.id}`);
        return job && (await job.isCompleted()) ? true : undefined;
      }, 'the escalate timer to run', 15_000);
    } finally {
      await reviews.close();
    }
    expect(h.fake.calls.filter((c) => c.method === 'chat.postMessage' && c.args.thread_ts === card.ts)).toHaveLength(0);
    expect((await h.sql`select 1 from events where escalation_id = ${e.id} and type in ('review_reminded', 'review_escalated')`).length).toBe(0);
  });
});
