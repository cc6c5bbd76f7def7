/**
 * `npx tsx bench/scale.ts [--count=6000] [--processes=1,2,4]`: intake to
 * card throughput with 1, 2 and 4 worker processes (`COUNTERSIGN_ROLE=worker`,
 * each its own OS process) on one Redis and one Postgres, the bot as deployed
 * (`dist/src/main.js`, NODE_ENV=production, when `npm run build` has run).
 * Slack's per-channel pace is lifted (the fake Slack answers at once, in this
 * process), as in `npm run bench`. Each round: `count` escalations put on the
 * queue in addBulk slices, timed from the first add until every one is
 * recorded `posted` in Postgres. The same round with one process is the
 * baseline; the machine's cores bound what more processes can add.
 */
import { cpus, loadavg } from 'node:os';
import { spawnBot, type ChildBot } from '../test/support/child-bot.js';
import { startChaosWorld } from '../chaos/world.js';
import { numberFlag } from './run.js';
import { deployedEntry, deployedEnv, describeEntry } from './process.js';

const COUNT = numberFlag('count', 6000);
const PROCESSES = (process.argv.find((a) => a.startsWith('--processes='))?.split('=')[1] ?? '1,2,4').split(',').map(Number);
/** A round that has not finished by then is reported as such (ms). */
const ROUND_LIMIT_MS = 180_000;

const log = (m: string) => process.stderr.write(`scale: ${m}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const entry = deployedEntry();
  log(`${describeEntry(entry)}; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`);
  const w = await startChaosWorld();
  const rows: Array<{ n: number; perSec: number | undefined; seconds: number }> = [];
  try {
    for (const n of PROCESSES) {
      const bots: ChildBot[] = await Promise.all(
        Array.from({ length: n }, () => spawnBot({ ...w.world.env, COUNTERSIGN_ROLE: 'worker', ...(entry ? deployedEnv() : {}) }, entry)),
      );
      try {
        // Warm-up: the first jobs of a fresh process pay for its JIT and connection pools.
        const warm = w.escalations(Math.min(500, COUNT));
        await w.enqueue(warm);
        await untilPosted(w, warm.map((e) => e.id), ROUND_LIMIT_MS);
        const batch = w.escalations(COUNT);
        const t0 = Date.now();
        await w.enqueue(batch);
        const done = await untilPosted(w, batch.map((e) => e.id), ROUND_LIMIT_MS);
        const seconds = (Date.now() - t0) / 1000;
        rows.push({ n, perSec: done ? COUNT / seconds : undefined, seconds });
        log(`${n} worker process${n === 1 ? '' : 'es'}: ${done ? `${(COUNT / seconds).toFixed(0)} escalations/s (${seconds.toFixed(1)} s)` : 'not finished in time'}`);
      } finally {
        for (const b of bots) b.proc.kill('SIGTERM');
        await Promise.all(bots.map((b) => b.exited));
      }
    }
  } finally {
    await w.close();
  }
  const base = rows.find((r) => r.n === 1)?.perSec;
  console.log(`| worker processes | intake to card (${COUNT.toLocaleString('en-US')} escalations) | vs 1 process |\n|---|---|---|`);
  for (const r of rows) {
    const figure = r.perSec === undefined ? `not finished in ${ROUND_LIMIT_MS / 1000} s` : `${Math.round(r.perSec).toLocaleString('en-US')}/s (${r.seconds.toFixed(1)} s)`;
    console.log(`| ${r.n} | ${figure} | ${base && r.perSec ? `${(r.perSec / base).toFixed(2)}×` : '—'} |`);
  }
}

/** True once every id is recorded with its card posted; false past `limitMs`. */
async function untilPosted(w: Awaited<ReturnType<typeof startChaosWorld>>, ids: string[], limitMs: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    const [row] = await w.world.sql<{ n: number }[]>`select count(*)::int as n from escalations where id = any(${ids}::uuid[]) and card_state = 'posted'`;
    if ((row?.n ?? 0) >= ids.length) return true;
    await sleep(100);
  }
  return false;
}

await main();
