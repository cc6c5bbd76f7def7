/**
 * Intake throughput to card on its own, repeated: for comparing a change
 * against its parent in interleaved runs, since this machine's speed drifts
 * by up to ±25% between minutes. Each block prints escalations/s and the CPU
 * per escalation in this process (bot, fake Slack and driver), its Postgres
 * backends and Redis: CPU moves less than throughput with other work.
 * Run: `npx tsx bench/intake.ts [--blocks=3] [--count=5000] [--concurrency=50]`.
 */
import { startBotBench } from './bot.js';
import { numberFlag, runBench } from './run.js';

const blocks = numberFlag('blocks', 3);
const count = numberFlag('count', 5000);
/** Pause between blocks so that one block's tail work (sealing, timers) does not land in the next (ms). */
const SETTLE_MS = 1500;

async function main(): Promise<void> {
  const bot = await startBotBench({ concurrency: numberFlag('concurrency', 50) });
  try {
    // Warm-up: JIT, pools, prepared statements.
    await bot.intakeThroughput(Math.min(1000, count));
    await bot.settle(SETTLE_MS);
    for (let i = 1; i <= blocks; i++) {
      const r = await bot.intakeThroughput(count);
      const cpu = `${r.cpu.node.toFixed(2)} + ${r.cpu.postgres.toFixed(2)} + ${r.cpu.redis.toFixed(2)} ms`;
      process.stdout.write(`block ${i}/${blocks}: ${Math.round(r.perSec)} escalations/s; CPU per escalation (this process + Postgres + Redis) ${cpu}\n`);
      await bot.settle(SETTLE_MS);
    }
  } finally {
    await bot.close();
  }
}

runBench(main);
