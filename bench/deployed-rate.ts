/**
 * `npm run bench:rate [-- --rates=250,500,650,800,1000 --seconds=10 --no-build --no-minimal --node-options=… --concurrency=50 --prefetch=1000 --by-second]`:
 * enqueue → card latency at a steady offered rate, the bot as deployed (issue
 * 16: "card p99 ≤ 250 ms at 1,000/s"), beside bench/minimal-pipeline.ts at
 * the same rates in the same run. Both run as their own OS processes on the
 * same fake Slack (pacing lifted, answering at once, in this process),
 * Postgres database and Redis, as `npm run bench:deployed` runs them.
 *
 * Each step: `seconds` of escalations at `rate` per second, added in addBulk
 * slices every 10 ms. Each card's latency runs from the moment its slice was
 * due (not when it was sent: a driver falling behind must not hide the wait)
 * to the fake Slack's receipt of its chat.postMessage. A step whose cards are
 * not all posted within STEP_LIMIT_MS after the last add is reported as
 * fallen behind, and higher rates are skipped for that target.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ESCALATIONS_QUEUE } from '../src/queue/names.js';
import { spawnBot, startChildBotWorld, type ChildBot } from '../test/support/child-bot.js';
import type { FakeCall } from '../test/support/fake-slack.js';
import { CALLBACK_SECRET, makeEscalation } from '../test/support/harness.js';
import { REDIS_URL, dropRedisPrefix } from '../test/support/services.js';
import { benchConfigText } from './bot.js';
import { builtEntry, deployedArgs, deployedEnv, describeEntry, nodeOptionsFlag, untilQuiet } from './process.js';
import { markdownTable, numberFlag, runBench, type Row } from './run.js';
import { lat, latency, now, sleep, type Latency } from './stats.js';

const RATES = (process.argv.find((a) => a.startsWith('--rates='))?.split('=')[1] ?? '250,500,650,800,1000').split(',').map(Number);
const SECONDS = numberFlag('seconds', 10);
const GOAL = { rate: 1000, p99Ms: 250 };
/** Slices a second: one addBulk every 10 ms. */
const TICKS_PER_SEC = 100;
/** After the last add, how long a step may take to post the rest before it counts as fallen behind (ms). */
const STEP_LIMIT_MS = 30_000;
const WARMUP = 1000;

const log = (m: string) => process.stderr.write(`rate: ${m}\n`);

interface Step {
  rate: number;
  offered: number;
  posted: number;
  latency: Latency;
  /** Slowest card (ms). */
  max: number;
  behind: boolean;
}

async function main(): Promise<void> {
  const entry = await builtEntry(log);
  log(`${describeEntry(entry)}; ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const world = await startChildBotWorld({ config: benchConfigText(), env: { CALLBACK_SIGNING_SECRET: CALLBACK_SECRET, WORKER_LOCK_MS: '30000', WORKER_CONCURRENCY: String(numberFlag('concurrency', 50)), INTAKE_PREFETCH: String(numberFlag('prefetch', 1000)) } });
  const minPrefix = `${world.env.COUNTERSIGN_QUEUE_PREFIX}-min`;
  const minQueue = new Queue(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix: minPrefix });
  const procs: ChildBot[] = [];
  type Fake = typeof world.fake;
  // Its record of calls and messages is cleared for each step (reset also drops hooks).
  const fresh = (fake: Fake) => {
    fake.reset();
    const posted = new Map<string, number>();
    fake.onCall('chat.postMessage', (call: FakeCall) => {
      const id = (call.args.metadata as { event_payload?: { escalation_id?: string } } | undefined)?.event_payload?.escalation_id;
      if (id && !posted.has(id)) posted.set(id, now());
    });
    return posted;
  };
  try {
    const bot = await spawnBot({ ...world.env, ...deployedEnv(nodeOptionsFlag()) }, entry, deployedArgs());
    procs.push(bot);
    const targets: Array<{ name: string; queue: Queue; pid: number }> = [{ name: 'bot', queue: world.queue, pid: bot.proc.pid! }];
    if (!process.argv.includes('--no-minimal')) {
      const minimal = await spawnBot({ ...world.env, COUNTERSIGN_QUEUE_PREFIX: minPrefix, NODE_ENV: 'production' }, fileURLToPath(new URL('./minimal-pipeline.ts', import.meta.url)));
      procs.push(minimal);
      targets.push({ name: 'minimal', queue: minQueue, pid: minimal.proc.pid! });
    }
    const results = new Map<string, Step[]>();
    for (const t of targets) {
      log(`warm-up: ${t.name}, ${WARMUP} at 500/s`);
      await step(t.queue, fresh(world.fake), 500, WARMUP / 500);
      await untilQuiet([t.pid]);
      results.set(t.name, []);
    }
    // Rates ascending, the targets alternating at each, so that drift falls on both.
    const stopped = new Set<string>();
    for (const [i, rate] of RATES.entries()) {
      const order = i % 2 ? [...targets].reverse() : targets;
      for (const t of order) {
        if (stopped.has(t.name)) continue;
        const s = await step(t.queue, fresh(world.fake), rate, SECONDS);
        results.get(t.name)!.push(s);
        log(`${t.name} at ${rate}/s: ${lat(s.latency)}, max ${Math.round(s.max)} ms${s.behind ? `, FELL BEHIND (${s.posted} of ${s.offered} posted)` : ''} (load ${loadavg()[0]!.toFixed(2)})`);
        if (s.behind) stopped.add(t.name);
        await untilQuiet([t.pid]);
      }
    }
    print(results);
    log(`load at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    for (const p of procs) p.proc.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await minQueue.obliterate({ force: true }).catch(() => {});
    await dropRedisPrefix((await minQueue.getBackend().client) as unknown as Redis, minPrefix);
    await minQueue.close();
    await world.close();
  }
}

/** `seconds` of escalations at `rate`/s onto `queue`; each card timed from its slice's due time. */
async function step(queue: Queue, posted: Map<string, number>, rate: number, seconds: number): Promise<Step> {
  const due = new Map<string, number>();
  const ticks = seconds * TICKS_PER_SEC;
  const adds: Promise<unknown>[] = [];
  const t0 = now();
  for (let k = 0; k < ticks; k++) {
    const at = t0 + (k * 1000) / TICKS_PER_SEC;
    const wait = at - now();
    if (wait > 1) await sleep(wait);
    // Spread the rate over the ticks without rounding it away: slice k carries the escalations due by its end.
    const n = Math.floor(((k + 1) * rate) / TICKS_PER_SEC) - Math.floor((k * rate) / TICKS_PER_SEC);
    if (n === 0) continue;
    const list = Array.from({ length: n }, () => makeEscalation());
    for (const e of list) due.set(e.id, at);
    adds.push(queue.addBulk(list.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } }))));
  }
  await Promise.all(adds);
  const ids = [...due.keys()];
  const limit = now() + STEP_LIMIT_MS;
  while (ids.some((id) => !posted.has(id)) && now() < limit) await sleep(10);
  const done = ids.filter((id) => posted.has(id));
  const waits = done.map((id) => posted.get(id)! - due.get(id)!);
  if (process.argv.includes('--by-second')) {
    // Diagnostic: each second's cards (by due time), p50 and max, to tell a backlog that grows from a fixed delay.
    const bySec = new Map<number, number[]>();
    for (const id of done) {
      const sec = Math.floor((due.get(id)! - t0) / 1000);
      bySec.set(sec, [...(bySec.get(sec) ?? []), posted.get(id)! - due.get(id)!]);
    }
    log(`by second: ${[...bySec].map(([sec, w]) => `${sec}:${Math.round(latency(w).p50)}/${Math.round(Math.max(...w))}`).join(' ')}`);
  }
  return { rate, offered: ids.length, posted: done.length, latency: latency(waits), max: Math.max(...waits), behind: done.length < ids.length };
}

function print(results: Map<string, Step[]>): void {
  const bot = results.get('bot') ?? [];
  const minimal = results.get('minimal') ?? [];
  const rows: Row[] = bot.map((s) => {
    const base = minimal.find((m) => m.rate === s.rate);
    const fig = (x: Step) => (x.behind ? `fell behind: ${x.posted.toLocaleString('en-US')} of ${x.offered.toLocaleString('en-US')} posted within ${STEP_LIMIT_MS / 1000} s` : `${lat(x.latency)} (max ${Math.round(x.max)} ms)`);
    const goal = s.rate === GOAL.rate ? `p99 ≤ ${GOAL.p99Ms} ms` : '—';
    return {
      metric: `enqueue → card at ${s.rate.toLocaleString('en-US')}/s for ${SECONDS} s (${s.offered.toLocaleString('en-US')})`,
      figure: fig(s),
      goal,
      baseline: base ? `minimal pipeline ${fig(base)}` : minimal.length ? 'minimal pipeline: fell behind at a lower rate' : '—',
      pass: s.rate === GOAL.rate ? !s.behind && s.latency.p99 <= GOAL.p99Ms : undefined,
    };
  });
  for (const r of RATES.filter((r) => !bot.some((s) => s.rate === r))) {
    rows.push({ metric: `enqueue → card at ${r.toLocaleString('en-US')}/s`, figure: 'not run: fell behind at a lower rate', goal: r === GOAL.rate ? `p99 ≤ ${GOAL.p99Ms} ms` : '—', baseline: '—', pass: r === GOAL.rate ? false : undefined });
  }
  console.log(`\nThe bot as deployed, enqueue → card, Slack's pace lifted; ${cpus().length} cores.\n`);
  console.log(markdownTable(rows).join('\n'));
}

runBench(main);
