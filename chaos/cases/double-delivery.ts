/**
 * Every interaction delivered twice, as Slack retries one it thinks timed
 * out: the same signed click again with X-Slack-Retry-Num: 1 and
 * X-Slack-Retry-Reason: http_timeout. Half the pairs race (the retry sent
 * while the first is in flight), half follow one another. Owed: one decision
 * and one callback per escalation.
 */
import { allCarded, type ChaosCase } from '../case.js';
import { settle } from '../tally.js';
import { approveBody, pool, sendClick } from '../world.js';

const RETRY_HEADERS = { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' };

export const doubleDelivery: ChaosCase = {
  name: 'double-delivery',
  fault: 'every click delivered twice, the second with X-Slack-Retry-Num: 1 (half at once, half after the first answer)',
  async run(ctx) {
    const n = ctx.quick ? 40 : 200;
    const w = await ctx.world();
    const bot = await w.bot();
    const batch = w.escalations(n);
    const ids = batch.map((e) => e.id);
    await w.enqueue(batch);
    if (!(await allCarded(w, ids, 60_000))) ctx.log('not every card went out before the clicks');
    const t0 = Date.now();
    const acknowledged: string[] = [];
    const statuses = new Map<string, number>();
    const cards = w.cards();
    await pool(ids, 8, async (id, i) => {
      const card = cards.get(id)?.[0];
      const body = card && approveBody(card);
      if (!body) return;
      const answers =
        i % 2 === 0
          ? await Promise.all([sendClick(bot, body), sendClick(bot, body, RETRY_HEADERS)])
          : [await sendClick(bot, body), await sendClick(bot, body, RETRY_HEADERS)];
      for (const s of answers) statuses.set(String(s), (statuses.get(String(s)) ?? 0) + 1);
      if (answers.includes(200)) acknowledged.push(id);
    });
    const t = await settle(w, { ids, clicked: ids, acknowledged }, ctx.quick ? 30_000 : 60_000);
    return { ...t, durationMs: Date.now() - t0, notes: [`answers: ${[...statuses].map(([s, k]) => `${k}× ${s}`).join(', ')}`] };
  },
};
