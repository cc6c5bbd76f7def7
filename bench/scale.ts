/**
 * `npx tsx bench/scale.ts [--count=6000] [--processes=1,2,4] [--cpu-per-process=0.25]`: intake to
 * card throughput with 1, 2 and 4 worker processes (`COUNTERSIGN_ROLE=worker`,
 * each its own OS process) on one Redis and one Postgres, the bot as deployed
 * (`dist/src/main.js`, NODE_ENV=production, when `npm run build` has run).
 * Slack's per-channel pace is lifted (the fake Slack answers at once, in this
 * process), as in `npm run bench`. Each round: `count` escalations put on the
 * queue in addBulk slices, timed from the first add until every one is
 * recorded `posted` in Postgres. The same round with one process is the
 * baseline; the machine's cores bound what more processes can add.
 *
 * `--cpu-per-process=<cores>` gives each worker process its own CPU quota
 * (bench/cpu-quota.ts; root or a writable cgroup needed): N processes then
 * hold N × that much CPU, whatever the machine has, which shows how the rate
 * grows with the CPU the bot is given on a machine with fewer cores than
 * processes, as long as N × quota leaves Postgres, Redis and the driver
 * enough of the rest. Each row then also gives the processes' CPU use per
 * second of the round, against their quota.
 */
import { cpus, loadavg } from 'node:os';
import { spawnBot, type ChildBot } from '../test/support/child-bot.js';
import { startChaosWorld } from '../chaos/world.js';
import { numberFlag } from './run.js';
import { botEnvFlag, deployedArgs, deployedEntry, deployedEnv, describeEntry } from './process.js';
import { limitCpu, type CpuQuota } from './cpu-quota.js';
import { procCpuMs } from './cpu.js';

const COUNT = numberFlag('count', 6000);
const PROCESSES = (process.argv.find((a) => a.startsWith('--processes='))?.split('=')[1] ?? '1,2,4').split(',').map(Number);
/** Cores of CPU quota per worker process; 0 (the default): no quota. */
const CPU_PER_PROCESS = numberFlag('cpu-per-process', 0);
/**
 * The bot as deployed: the chaos world's short lock (1.5 s, for its crash cases) is
 * dropped for the default, so a throttled process is not taken for a dead one.
 * `--bot-env=K=V,…` adds to it.
 */
const BOT_ENV = botEnvFlag();
/** A round that has not finished by then is reported as such (ms). */
const ROUND_LIMIT_MS = 180_000;

const log = (m: string) => process.stderr.write(`scale: ${m}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const entry = deployedEntry();
  const quota = CPU_PER_PROCESS > 0 ? `, each worker process limited to ${CPU_PER_PROCESS} of a core` : '';
  log(`${describeEntry(entry)}${Object.keys(BOT_ENV).length ? ` (${JSON.stringify(BOT_ENV)})` : ''}; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}${quota}`);
  const w = await startChaosWorld();
  const rows: Array<{ n: number; perSec: number | undefined; seconds: number; coresUsed: number; throttled: number }> = [];
  try {
    for (const n of PROCESSES) {
      const bots: ChildBot[] = await Promise.all(
        Array.from({ length: n }, () => spawnBot({ ...deployedWorld(w.world.env), COUNTERSIGN_ROLE: 'worker', ...(entry ? deployedEnv() : {}), ...BOT_ENV }, entry, entry ? deployedArgs() : [])),
      );
      const quotas: CpuQuota[] = [];
      try {
        if (CPU_PER_PROCESS > 0) bots.forEach((b, i) => quotas.push(limitCpu(b.proc.pid!, CPU_PER_PROCESS, `countersign-scale-${process.pid}-${n}-${i}`)));
        // Warm-up: the first jobs of a fresh process pay for its JIT and connection pools.
        const warm = w.escalations(Math.min(500, COUNT));
        await w.enqueue(warm);
        await untilPosted(w, warm.map((e) => e.id), ROUND_LIMIT_MS);
        const batch = w.escalations(COUNT);
        const cpuOf = () => bots.reduce((sum, b) => sum + procCpuMs(b.proc.pid!), 0);
        const throttledOf = () => quotas.reduce((sum, q) => sum + q.throttled(), 0);
        const [cpu0, throttled0] = [cpuOf(), throttledOf()];
        const t0 = Date.now();
        await w.enqueue(batch);
        const done = await untilPosted(w, batch.map((e) => e.id), ROUND_LIMIT_MS);
        const seconds = (Date.now() - t0) / 1000;
        const coresUsed = (cpuOf() - cpu0) / 1000 / seconds;
        rows.push({ n, perSec: done ? COUNT / seconds : undefined, seconds, coresUsed, throttled: throttledOf() - throttled0 });
        log(`${n} worker process${n === 1 ? '' : 'es'}: ${done ? `${(COUNT / seconds).toFixed(0)} escalations/s (${seconds.toFixed(1)} s)` : 'not finished in time'}, ${coresUsed.toFixed(2)} cores used`);
      } finally {
        for (const b of bots) b.proc.kill('SIGTERM');
        await Promise.all(bots.map((b) => b.exited));
        for (const q of quotas) q.remove();
      }
    }
  } finally {
    await w.close();
  }
  const base = rows.find((r) => r.n === 1)?.perSec;
  const given = CPU_PER_PROCESS > 0 ? ' | CPU given | CPU used (throttled periods)' : ' | CPU used';
  console.log(`| worker processes | intake to card (${COUNT.toLocaleString('en-US')} escalations) | vs 1 process${given} |\n|---|---|---${'|---'.repeat(given.split('|').length - 1)}|`);
  for (const r of rows) {
    const figure = r.perSec === undefined ? `not finished in ${ROUND_LIMIT_MS / 1000} s` : `${Math.round(r.perSec).toLocaleString('en-US')}/s (${r.seconds.toFixed(1)} s)`;
    const cpu = CPU_PER_PROCESS > 0 ? ` | ${(r.n * CPU_PER_PROCESS).toFixed(2)} cores | ${r.coresUsed.toFixed(2)} cores (${r.throttled})` : ` | ${r.coresUsed.toFixed(2)} cores`;
    console.log(`| ${r.n} | ${figure} | ${base && r.perSec ? `${(r.perSec / base).toFixed(2)}×` : '—'}${cpu} |`);
  }
}

function deployedWorld(env: Record<string, string>): Record<string, string> {
  const { WORKER_LOCK_MS: _crashCasesOnly, ...rest } = env;
  return rest;
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
