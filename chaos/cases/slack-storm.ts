/**
 * A Slack error storm, as the slack-storm test injects it in the fake Slack:
 * every chat.postMessage is answered 429 (Retry-After: 1) for a while, then
 * 500 for a while, then Slack answers again. Owed: every card goes out
 * exactly once, or its card_post_failed record exists.
 */
import { CARD_RETRY_MAX_MS } from '../../src/queue/backoff.js';
import type { ChaosCase } from '../case.js';
import { settle } from '../tally.js';
import { sleep } from '../world.js';

export const slackStorm: ChaosCase = {
  name: 'slack-storm',
  fault: 'chat.postMessage answered 429 (Retry-After 1 s), then 500, then normally again',
  async run(ctx) {
    const n = ctx.quick ? 60 : 300;
    const phaseMs = ctx.quick ? 4_000 : 10_000;
    const w = await ctx.world();
    await w.bot();
    const { fake } = w.world;
    const batch = w.escalations(n);
    const ids = batch.map((e) => e.id);
    const t0 = Date.now();
    fake.fail429('chat.postMessage', { retryAfterSec: 1, times: Number.POSITIVE_INFINITY });
    await w.enqueue(batch);
    await sleep(phaseMs);
    fake.clearFaults('chat.postMessage');
    fake.fail500('chat.postMessage', { times: Number.POSITIVE_INFINITY });
    await sleep(phaseMs);
    const refused = fake.callsTo('chat.postMessage').length;
    fake.clearFaults('chat.postMessage');
    ctx.log(`storm over after ${refused} refused posts`);
    // Once Slack answers, every waiting card is due within one capped retry delay.
    const t = await settle(w, { ids }, CARD_RETRY_MAX_MS + (ctx.quick ? 20_000 : 40_000));
    return { ...t, durationMs: Date.now() - t0, notes: [`${refused} posts refused (429 for ${phaseMs / 1000} s, then 500 for ${phaseMs / 1000} s)`] };
  },
};
