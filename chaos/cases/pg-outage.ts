/**
 * Postgres gone for 30 s (10 s with --quick) under load. The bot reaches
 * Postgres through a loopback TCP proxy (pg-proxy.ts) that resets every
 * connection and refuses new ones for the outage; the shared server is never
 * stopped. Before: half the escalations carded. During: the other half
 * arrives at a steady pace, and the approver clicks the first half's cards.
 * After: clicks that got no answer are repeated. Owed: nothing lost, every
 * escalation carded, every clicked one decided once with one callback.
 */
import { UNNOTIFIED_SWEEP_MS, allCarded, approveAll, repeatClicks, type ChaosCase } from '../case.js';
import { startPgProxy } from '../pg-proxy.js';
import { settle } from '../tally.js';
import { sleep } from '../world.js';

export const pgOutage: ChaosCase = {
  name: 'pg-outage',
  fault: 'every Postgres connection of the bot reset and refused for 30 s (quick: 10 s) through a TCP proxy',
  async run(ctx) {
    const n = ctx.quick ? 100 : 300;
    const outageMs = ctx.quick ? 10_000 : 30_000;
    const w = await ctx.world();
    const proxy = await startPgProxy(w.world.db.url);
    ctx.defer(() => proxy.close());
    const bot = await w.bot({ DATABASE_URL: proxy.url });
    const first = w.escalations(n / 2);
    const second = w.escalations(n / 2);
    const t0 = Date.now();
    await w.enqueue(first);
    if (!(await allCarded(w, first.map((e) => e.id), 60_000))) ctx.log('not every card of the first half went out before the outage');

    proxy.cut();
    ctx.log(`Postgres cut for ${outageMs / 1000} s`);
    const outageEnds = Date.now() + outageMs;
    // Arrivals spread over the outage, in ten slices.
    const arriving = (async () => {
      const slice = Math.ceil(second.length / 10);
      for (let i = 0; i < second.length; i += slice) {
        await w.enqueue(second.slice(i, i + slice));
        await sleep(outageMs / 10);
      }
    })();
    const clicks = approveAll(w, first.map((e) => e.id), () => bot, 8);
    await sleep(Math.max(0, outageEnds - Date.now()));
    proxy.restore();
    ctx.log(`Postgres back after ${proxy.refused()} refused connections`);
    await arriving;
    const round1 = await clicks;
    const round2 = await repeatClicks(w, round1.unanswered, () => bot);
    const ids = [...first, ...second].map((e) => e.id);
    const clicked = first.map((e) => e.id);
    const t = await settle(w, { ids, clicked, acknowledged: [...round1.acknowledged, ...round2] }, UNNOTIFIED_SWEEP_MS);
    const exited = bot.proc.exitCode !== null || bot.proc.signalCode !== null;
    return {
      ...t,
      durationMs: Date.now() - t0,
      notes: [
        `${proxy.refused()} connections refused; ${round1.acknowledged.length} clicks answered 200 and ${round1.unanswered.length} not (repeated after, ${round2.length} answered)`,
        ...(exited ? [`the bot process exited (${bot.proc.exitCode ?? bot.proc.signalCode})`] : []),
      ],
    };
  },
};
