/**
 * `npx tsx bench/memory.ts [--count=100000] [--soak-minutes=10] [--rate=200]`:
 * the bot's resident memory (RSS, from /proc) as it is deployed, in its own
 * process: `dist/src/main.js` with NODE_ENV=production when `npm run build`
 * has run, else `src/main.ts` through tsx (said in the output). Three figures:
 * the idle bot; the bot holding `count` pending escalations (cards posted,
 * expiry timers set, deadlines a day away); and a soak at `rate` escalations
 * a second, sampled every 10 s, whose growth after the first two minutes
 * (warm-up) is reported. Linux only (reads /proc/<pid>/status).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { spawnBot, type ChildBot } from '../test/support/child-bot.js';
import { startChaosWorld } from '../chaos/world.js';
import { numberFlag } from './run.js';
import { deployedEntry, describeEntry } from './process.js';

const COUNT = numberFlag('count', 100_000);
const SOAK_MIN = numberFlag('soak-minutes', 10);
const RATE = numberFlag('rate', 200);
/** Budget for loading `COUNT` pending escalations (ms): about 700/s on this 2-core machine. */
const LOAD_LIMIT_MS = Math.max(120_000, COUNT * 5);
const DAY_MS = 86_400_000;
const WARMUP_MS = 120_000;
const SAMPLE_MS = 10_000;

const log = (m: string) => process.stderr.write(`memory: ${m}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const entry = deployedEntry();
  log(`${describeEntry(entry)}; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`);
  const w = await startChaosWorld();
  let bot: ChildBot | undefined;
  try {
    bot = await spawnBot({ ...w.world.env, ...(entry ? { NODE_ENV: 'production' } : {}) }, entry);
    const pid = bot.proc.pid!;
    await sleep(5_000);
    const idle = rssKb(pid);
    log(`idle: ${mb(idle)}`);

    // Pending escalations: the example's refund (confidence 0.62 waits for a person), a day to its deadline.
    const deadline = () => new Date(Date.now() + DAY_MS).toISOString();
    const t0 = Date.now();
    for (let sent = 0; sent < COUNT; sent += 1000) {
      await w.enqueue(w.escalations(Math.min(1000, COUNT - sent), { deadline: deadline() }));
    }
    let posted = 0;
    while (posted < COUNT && Date.now() - t0 < LOAD_LIMIT_MS) {
      await sleep(2_000);
      const [row] = await w.world.sql<{ n: number }[]>`select count(*)::int as n from escalations where status = 'pending' and card_state = 'posted'`;
      posted = row?.n ?? 0;
    }
    const loadS = (Date.now() - t0) / 1000;
    await sleep(10_000);
    const loaded = rssKb(pid);
    log(`${posted} pending with cards after ${loadS.toFixed(0)} s: ${mb(loaded)}`);

    // Soak: RATE a second in 1 s slices, for SOAK_MIN minutes.
    const samples: Array<{ at: number; kb: number }> = [];
    const s0 = Date.now();
    let next = s0;
    let lastSample = s0;
    while (Date.now() - s0 < SOAK_MIN * 60_000) {
      await w.enqueue(w.escalations(RATE, { deadline: deadline() }));
      next += 1000;
      if (Date.now() - lastSample >= SAMPLE_MS) {
        samples.push({ at: Date.now() - s0, kb: rssKb(pid) });
        lastSample = Date.now();
      }
      await sleep(Math.max(0, next - Date.now()));
    }
    const warm = samples.filter((s) => s.at <= WARMUP_MS);
    const after = samples.filter((s) => s.at > WARMUP_MS);
    const base = warm.at(-1)?.kb ?? loaded;
    const peak = Math.max(...after.map((s) => s.kb), base);
    const last = after.at(-1)?.kb ?? base;
    const [counted] = await w.world.sql<{ n: number }[]>`select count(*)::int as n from escalations`;
    const total = counted?.n ?? 0;

    const rows = [
      ['idle bot RSS', mb(idle), '—', '—'],
      [`RSS with ${posted.toLocaleString('en-US')} escalations pending (cards posted, timers set)`, mb(loaded), '< 300 MB', loaded < 300 * 1024 ? 'pass' : 'FAIL'],
      [
        `soak: ${RATE}/s for ${SOAK_MIN} min (${total.toLocaleString('en-US')} escalations in all), RSS after the ${WARMUP_MS / 60_000}-min warm-up → peak / last`,
        `${mb(base)} → ${mb(peak)} / ${mb(last)} (+${(((peak - base) / base) * 100).toFixed(1)} %)`,
        '≤ +10 % after warm-up',
        peak <= base * 1.1 ? 'pass' : 'FAIL',
      ],
    ];
    console.log('| metric | figure | goal | pass/fail |\n|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    console.log(`\nSamples (s: MB): ${samples.map((s) => `${Math.round(s.at / 1000)}: ${(s.kb / 1024).toFixed(0)}`).join(', ')}`);
  } finally {
    bot?.proc.kill('SIGTERM');
    await bot?.exited;
    await w.close();
  }
}

await main();
