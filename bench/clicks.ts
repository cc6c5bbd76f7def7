/**
 * The click rows on their own, repeated: signed clicks from `--concurrency`
 * closed-loop clickers (4 by default, as in `npm run bench`), then the same
 * count at a steady `--rate` per second. Each block prints the ack latency,
 * clicks/s and CPU per click in this process (bot, fake Slack, callback
 * receiver and driver), its Postgres backends and Redis, for comparing a
 * change against its parent in interleaved runs.
 * Run: `npx tsx bench/clicks.ts [--blocks=3] [--count=500] [--concurrency=4] [--rate=50]`.
 */
import { startBotBench } from './bot.js';
import { numberFlag, runBench } from './run.js';
import { lat } from './stats.js';

const blocks = numberFlag('blocks', 3);
const count = numberFlag('count', 500);
const clickers = numberFlag('concurrency', 4);
const rate = numberFlag('rate', 50);
/** Pause between phases so that one phase's tail work does not land in the next (ms). */
const SETTLE_MS = 1500;

async function main(): Promise<void> {
  const bot = await startBotBench({ concurrency: 50 });
  try {
    // Warm-up: JIT, pools, prepared statements, Bolt's first auth.test.
    await bot.clickAck(await bot.pendingCards(100), clickers);
    await bot.settle(SETTLE_MS);
    for (let i = 1; i <= blocks; i++) {
      const cards = await bot.pendingCards(count);
      await bot.settle(SETTLE_MS, { keepMessages: true });
      const r = await bot.clickAck(cards, clickers);
      const cpu = `${r.cpu.node.toFixed(2)} + ${r.cpu.postgres.toFixed(2)} + ${r.cpu.redis.toFixed(2)} ms`;
      process.stdout.write(
        `block ${i}/${blocks}: ${clickers} clickers: ack ${lat(r.latency)} at ${Math.round(r.perSec)} clicks/s; CPU per click (this process + Postgres + Redis, until every callback) ${cpu}\n`,
      );
      await bot.settle(SETTLE_MS);
      const steady = await bot.pendingCards(Math.min(count, rate * 5));
      await bot.settle(SETTLE_MS, { keepMessages: true });
      const s = await bot.clickToCallback(steady, rate);
      process.stdout.write(`block ${i}/${blocks}: ${rate}/s: ack ${lat(s.ack)}; click → callback ${lat(s.latency)}; ${s.cpu.toFixed(2)} ms of this process per click\n`);
      await bot.settle(SETTLE_MS);
    }
  } finally {
    await bot.close();
  }
}

runBench(main);
