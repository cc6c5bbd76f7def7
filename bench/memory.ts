/**
 * `npx tsx bench/memory.ts [--count=100000] [--soak-minutes=10] [--rate=200]`:
 * the bot's resident memory (RSS, from /proc) as it is deployed, in its own
 * process: `dist/src/main.js` with NODE_ENV=production when `npm run build`
 * has run, else `src/main.ts` through tsx (said in the output). Three figures:
 * the idle bot; the bot holding `count` pending escalations (cards posted,
 * expiry timers set, deadlines a day away); and a soak at `rate` escalations
 * a second, sampled every 10 s, whose growth after the first two minutes
 * (warm-up) is reported. Linux only (reads /proc/<pid>/status).
 *
 * The bot gets the node flags `npm run start:prod` gives it (package.json),
 * on its command line: the figure is the deployed process's.
 *
 * `--probe=1` preloads bench/memory-probe.mjs into the bot and asks it, after
 * each RSS reading, for process.memoryUsage() before and after a full GC
 * (heap used / total, external, array buffers): where the RSS is held.
 * `--node-options="…"` passes flags to the bot's node (NODE_OPTIONS), to
 * measure a setting; MEMORY_PROBE_SNAPSHOT_DIR=… also writes heap snapshots.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { spawnBot, type ChildBot } from '../test/support/child-bot.js';
import { startChaosWorld } from '../chaos/world.js';
import { numberFlag } from './run.js';
import { botEnvFlag, deployedArgs, deployedEntry, describeEntry, nodeOptionsFlag } from './process.js';

const COUNT = numberFlag('count', 100_000);
const SOAK_MIN = numberFlag('soak-minutes', 10);
const RATE = numberFlag('rate', 200);
const PROBE = numberFlag('probe', 0) === 1;
const NODE_OPTIONS = nodeOptionsFlag();
/** `--bot-env=K=V,…` (e.g. MALLOC_ARENA_MAX=2). */
const BOT_ENV = botEnvFlag();
const PROBE_PATH = new URL('./memory-probe.mjs', import.meta.url).pathname;
/** Budget for loading `COUNT` pending escalations (`--load-limit-s`): about 700/s on this 2-core machine. */
const LOAD_LIMIT_MS = numberFlag('load-limit-s', Math.max(120, COUNT / 200)) * 1000;
const DAY_MS = 86_400_000;
const WARMUP_MS = 120_000;
const SAMPLE_MS = 10_000;

const log = (m: string) => process.stderr.write(`memory: ${m}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for ${pid}`);
  return Number(m[1]);
}
const rssKb = (pid: number) => statusKb(pid, 'VmRSS');

/** The process's CPU time so far (user + system, ms), from /proc/<pid>/stat: what the load cost it whatever else the machine ran. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat (11 and 12 after the name), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The mappings holding the most resident memory (/proc/<pid>/smaps): the brk heap, glibc arenas (64 MB reservations), V8 pages, files. */
function topMappings(pid: number, n = 12): string {
  const maps: Array<{ name: string; sizeKb: number; rssKb: number }> = [];
  let cur: { name: string; sizeKb: number; rssKb: number } | undefined;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = { name: head[3] || '[anon]', sizeKb: (parseInt(head[2]!, 16) - parseInt(head[1]!, 16)) / 1024, rssKb: 0 };
      maps.push(cur);
    } else if (cur && line.startsWith('Rss:')) cur.rssKb = Number(/(\d+)/.exec(line)![1]);
  }
  const anon = maps.filter((m) => m.name === '[anon]');
  const bySize = new Map<number, { count: number; rssKb: number }>();
  for (const m of anon) {
    const e = bySize.get(m.sizeKb) ?? { count: 0, rssKb: 0 };
    e.count++;
    e.rssKb += m.rssKb;
    bySize.set(m.sizeKb, e);
  }
  const sizes = [...bySize].sort((a, b) => b[1].rssKb - a[1].rssKb).slice(0, 8);
  const heap = maps.filter((m) => m.name === '[heap]').reduce((a, m) => a + m.rssKb, 0);
  const top = [...maps].sort((a, b) => b.rssKb - a.rssKb).slice(0, n).map((m) => `${m.name.split('/').at(-1)} ${mb(m.sizeKb)}/${mb(m.rssKb)}`);
  return `[heap] rss ${mb(heap)}; anon mappings by size (size ×count: rss): ${sizes.map(([k, v]) => `${k} kB ×${v.count}: ${mb(v.rssKb)}`).join(', ')}; top (size/rss): ${top.join(', ')}`;
}

/** With --probe: the probe's line for this reading (memoryUsage before and after a full GC), logged; after the RSS was read. */
async function probe(bot: ChildBot, label: string): Promise<void> {
  if (!PROBE) return;
  const pid = bot.proc.pid!;
  log(`${label}: RssAnon ${mb(statusKb(pid, 'RssAnon'))}, RssFile ${mb(statusKb(pid, 'RssFile'))}`);
  log(`${label}: ${topMappings(pid)}`);
  const seen = bot.output().split('\n').filter((l) => l.startsWith('memory-probe ')).length;
  bot.proc.kill('SIGUSR2');
  for (let i = 0; i < 600; i++) {
    const lines = bot.output().split('\n').filter((l) => l.startsWith('memory-probe '));
    if (lines.length > seen) {
      log(`${label}: ${lines.at(-1)!.slice('memory-probe '.length)}`);
      return;
    }
    await sleep(100);
  }
  log(`${label}: no probe answer within 60 s`);
}

async function main(): Promise<void> {
  const entry = deployedEntry();
  log(`${describeEntry(entry)}; ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`);
  const w = await startChaosWorld();
  let bot: ChildBot | undefined;
  try {
    const nodeOptions = [NODE_OPTIONS, PROBE ? `--expose-gc --import ${PROBE_PATH}` : ''].filter(Boolean).join(' ');
    if (nodeOptions) log(`NODE_OPTIONS=${nodeOptions}`);
    if (Object.keys(BOT_ENV).length) log(`bot env: ${JSON.stringify(BOT_ENV)}`);
    bot = await spawnBot({ ...w.world.env, ...(entry ? { NODE_ENV: 'production' } : {}), ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}), ...BOT_ENV }, entry, entry ? deployedArgs() : []);
    const pid = bot.proc.pid!;
    await sleep(5_000);
    const idle = rssKb(pid);
    log(`idle: ${mb(idle)}`);
    await probe(bot, 'idle');

    // Pending escalations: the example's refund (confidence 0.62 waits for a person), a day to its deadline.
    const deadline = () => new Date(Date.now() + DAY_MS).toISOString();
    const t0 = Date.now();
    const cpu0 = cpuMs(pid);
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
    const loadCpuMs = cpuMs(pid) - cpu0;
    await sleep(10_000);
    const loaded = rssKb(pid);
    log(`${posted} pending with cards after ${loadS.toFixed(0)} s (${(posted / loadS).toFixed(0)}/s; bot CPU ${(loadCpuMs / 1000).toFixed(0)} s, ${(loadCpuMs / Math.max(1, posted)).toFixed(2)} ms an escalation): ${mb(loaded)}`);
    await probe(bot, 'loaded');

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
