/**
 * Slack slow: every Web API call the fake Slack receives is answered 2 s
 * late (its onCall hook awaits before the reply; the call's effect is already
 * applied, as on a slow Slack). The cards go out, the approver clicks each.
 * Owed: one card, one decision and one callback per escalation.
 */
import { allCarded, approveAll, repeatClicks, type ChaosCase } from '../case.js';
import { settle } from '../tally.js';
import { sleep } from '../world.js';

/** How late each Slack call is answered (ms). */
const SLACK_DELAY_MS = 2_000;

export const slackSlow: ChaosCase = {
  name: 'slack-slow',
  fault: `every Slack Web API call answered ${SLACK_DELAY_MS / 1000} s late`,
  async run(ctx) {
    const n = ctx.quick ? 40 : 150;
    const w = await ctx.world();
    const bot = await w.bot();
    const unhook = w.world.fake.onCall('*', () => sleep(SLACK_DELAY_MS));
    ctx.defer(unhook);
    const batch = w.escalations(n);
    const ids = batch.map((e) => e.id);
    const t0 = Date.now();
    await w.enqueue(batch);
    if (!(await allCarded(w, ids, ctx.quick ? 30_000 : 60_000))) ctx.log('not every card went out before the clicks');
    const round1 = await approveAll(w, ids, () => bot, 10);
    const round2 = await repeatClicks(w, round1.unanswered, () => bot);
    const t = await settle(w, { ids, clicked: ids, acknowledged: [...round1.acknowledged, ...round2] }, ctx.quick ? 30_000 : 60_000);
    return { ...t, durationMs: Date.now() - t0, notes: [`${round1.unanswered.length} clicks not answered 200 at first`] };
  },
};
