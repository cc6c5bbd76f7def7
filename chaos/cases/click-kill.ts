/**
 * The bot SIGKILLed in a burst of clicks, as the decision-crash test does it:
 * signed Approve clicks, 10 in flight; the process dies once 40% have been
 * answered. A fresh process starts and the approver repeats the clicks that
 * got no answer. Owed: every click answered 200 is a recorded decision
 * (acknowledged = recorded), and each escalation is decided once, with one
 * callback.
 */
import type { ChildBot } from '../../test/support/child-bot.js';
import { UNNOTIFIED_SWEEP_MS, allCarded, approveAll, repeatClicks, type ChaosCase } from '../case.js';
import { settle, unrecorded } from '../tally.js';

export const clickKill: ChaosCase = {
  name: 'click-kill',
  fault: 'SIGKILL of the bot once 40% of a burst of clicks (10 in flight) were answered; a fresh process takes the repeats',
  async run(ctx) {
    const n = ctx.quick ? 100 : 400;
    const w = await ctx.world();
    let live: ChildBot = await w.bot();
    const batch = w.escalations(n);
    const ids = batch.map((e) => e.id);
    await w.enqueue(batch);
    if (!(await allCarded(w, ids, 60_000))) ctx.log('not every card went out before the clicks');
    const t0 = Date.now();
    const first = live;
    const killAt = Math.floor(n * 0.4);
    const round1 = await approveAll(w, ids, () => first, 10, (status, answered) => {
      if (status === 200 && answered === killAt) first.proc.kill('SIGKILL');
    });
    // Had fewer clicks than that been answered, the kill comes now: the repeats go to a fresh process either way.
    if (first.proc.exitCode === null && first.proc.signalCode === null) first.proc.kill('SIGKILL');
    await first.exited;
    // Before anything restarts: what the dead process acknowledged is already in Postgres.
    const atKill = (await unrecorded(w, round1.acknowledged)).length;
    ctx.log(`killed with ${round1.acknowledged.length} clicks answered, ${round1.unanswered.length} not; ${atKill} answered but unrecorded at the kill`);
    live = await w.bot();
    const round2 = await repeatClicks(w, round1.unanswered, () => live);
    const t = await settle(w, { ids, clicked: ids, acknowledged: [...round1.acknowledged, ...round2] }, UNNOTIFIED_SWEEP_MS);
    return {
      ...t,
      durationMs: Date.now() - t0,
      notes: [`${round1.acknowledged.length} answered before the kill, ${round1.unanswered.length} cut off and repeated (${round2.length} answered); ${atKill} answered but not in Postgres at the kill`],
    };
  },
};
