/**
 * A worker SIGKILLed in a burst of escalations: two bot processes share the
 * queue; one dies a third of the way through the cards and a fresh one takes
 * its place. A killed worker's jobs come back after WORKER_LOCK_MS (1.5 s
 * here). Owed: every escalation ends with exactly one card.
 */
import type { ChaosCase } from '../case.js';
import { settle } from '../tally.js';

export const workerKill: ChaosCase = {
  name: 'worker-kill',
  fault: 'SIGKILL of one of two bot processes a third of the way through a burst of escalations; a fresh process replaces it',
  async run(ctx) {
    const n = ctx.quick ? 200 : 1000;
    const w = await ctx.world();
    const [first] = await Promise.all([w.bot(), w.bot()]);
    const batch = w.escalations(n);
    const ids = batch.map((e) => e.id);
    let posted = 0;
    let killedAfter = 0;
    const unhook = w.world.fake.onCall('chat.postMessage', () => {
      if (++posted === Math.floor(n / 3)) {
        killedAfter = posted;
        first!.proc.kill('SIGKILL');
        ctx.log(`killed pid ${first!.proc.pid} after ${posted} card posts`);
        // The replacement starts while the survivor carries on.
        void w.bot().then(() => ctx.log('replacement up'), (err: Error) => ctx.log(`replacement failed: ${err.message}`));
      }
    });
    const t0 = Date.now();
    await w.enqueue(batch);
    const t = await settle(w, { ids }, ctx.quick ? 30_000 : 90_000);
    unhook();
    return { ...t, durationMs: Date.now() - t0, notes: [`killed after ${killedAfter} card posts`] };
  },
};
