/**
 * `npm run bench:deployed [-- --rounds=3 --count=3000 --clicks=300 --click-concurrency=20 --no-build --bot-env=K=V,… --cpu-prof]`:
 * the bot as deployed beside a minimal pipeline (issue 16). Both run as their
 * own OS processes on the same fake Slack (pacing lifted), Postgres database
 * and Redis: the bot as `npm run start:prod` runs it (built by `npm run build`
 * first unless --no-build; NODE_ENV=production, LOG_LEVEL=info, the default
 * role, lock and concurrency), and bench/minimal-pipeline.ts on its own queue
 * prefix. Blocks alternate, the order swapped each round (bot then minimal,
 * minimal then bot, …), with a pause until both processes are quiet between
 * blocks, so that the machine's drift and the other agents' load fall on both.
 *
 * Each block: `count` escalations added in addBulk slices of 1,000 (as the
 * in-process bench), timed from the first add until the last card has reached
 * Slack and is recorded (the bot: `card_state = 'posted'` in Postgres; the
 * minimal pipeline: its job completed after Slack's answer); then `clicks` of
 * those cards approved by signed clicks, `click-concurrency` in flight, timed
 * from the first click until the last callback has arrived. CPU per escalation
 * and per click is read from /proc for the process under test and the
 * database's Postgres backends. The goal: the bot's intake at least 1.5× the
 * minimal pipeline's.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { approveBody, type Card } from '../chaos/world.js';
import { ESCALATIONS_QUEUE } from '../src/queue/names.js';
import { spawnBot, startChildBotWorld, type ChildBot, type ChildBotWorld } from '../test/support/child-bot.js';
import type { FakeCall } from '../test/support/fake-slack.js';
import { CALLBACK_SECRET, REFUNDS_CHANNEL, SIGNING_SECRET, makeEscalation } from '../test/support/harness.js';
import { REDIS_URL, dropRedisPrefix } from '../test/support/services.js';
import { signSlackRequest } from '../test/support/slack-signing.js';
import { benchConfigText, startCallbackReceiver } from './bot.js';
import { machineCpuMs, ownCpuMs, procCpuMs, redisServerPid } from './cpu.js';
import { post } from './http-client.js';
import { botEnvFlag, builtEntry, deployedArgs, deployedEnv, describeEntry, nodeOptionsFlag, untilQuiet } from './process.js';
import { numberFlag, runBench } from './run.js';
import { latency, now, percentile, until, withConcurrency } from './stats.js';

const ROUNDS = numberFlag('rounds', 3);
const COUNT = numberFlag('count', 3000);
const CLICKS = Math.min(numberFlag('clicks', 300), COUNT);
const CLICK_CONCURRENCY = numberFlag('click-concurrency', 20);
const WARMUP = 500;
const GOAL = 1.5;
const BOT_ENV = botEnvFlag();

const log = (m: string) => process.stderr.write(`deployed: ${m}\n`);

interface Target {
  name: 'bot' | 'minimal';
  proc: ChildBot;
  queue: Queue;
  /** True once every escalation of the block is recorded as its pipeline records it. */
  recorded(ids: string[], completedBefore: number): Promise<boolean>;
}

interface Block {
  intakePerSec: number;
  /** Process CPU and Postgres backends' CPU, ms per escalation. */
  intakeCpu: { proc: number; pg: number };
  /**
   * During intake, ms per escalation: the Redis server, this harness process (the fake
   * Slack, the driver, the callback receiver) and the whole machine (all of it: the
   * process under test, Postgres's background workers and anything else running);
   * `busy`: the machine's busy share of all its cores over the block.
   */
  intakeShared: { redis: number; harness: number; machine: number; busy: number };
  clicksPerSec: number;
  clickAck: { p50: number; p99: number };
  clickCpu: { proc: number; pg: number };
  logBytesPerEscalation: number;
  /** Postgres commits and rows written, Redis commands (server-wide), per escalation and per click, the block's tail included. */
  perEscalation: Work;
  perClick: Work;
}

interface Work {
  commits: number;
  rows: number;
  redis: number;
}

async function main(): Promise<void> {
  const entry = await builtEntry(log);
  log(`${describeEntry(entry)} ${Object.keys(BOT_ENV).length ? ` (${JSON.stringify(BOT_ENV)})` : ''} beside bench/minimal-pipeline.ts; ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const cb = await startCallbackReceiver();
  // The deployed defaults: the chaos world's short lock (crash recovery in tests) is not what runs in production.
  const world = await startChildBotWorld({ config: benchConfigText(), env: { CALLBACK_SIGNING_SECRET: CALLBACK_SECRET, WORKER_LOCK_MS: '30000' } });
  const minPrefix = `${world.env.COUNTERSIGN_QUEUE_PREFIX}-min`;
  const minQueue = new Queue(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix: minPrefix });
  const targets: Target[] = [];
  try {
    const profile: Record<string, string> = process.argv.includes('--cpu-prof') ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.cwd()}/.bench-profiles` } : {};
    const bot = await spawnBot({ ...world.env, ...deployedEnv([nodeOptionsFlag(), profile.NODE_OPTIONS ?? ''].join(' ').trim()), ...BOT_ENV }, entry, deployedArgs());
    const minimal = await spawnBot(
      { ...world.env, COUNTERSIGN_QUEUE_PREFIX: minPrefix, NODE_ENV: 'production', ...profile },
      fileURLToPath(new URL('./minimal-pipeline.ts', import.meta.url)),
    );
    targets.push(
      { name: 'bot', proc: bot, queue: world.queue, recorded: async (ids) => (await postedInDb(world, ids)) === ids.length },
      {
        name: 'minimal',
        proc: minimal,
        queue: minQueue,
        recorded: async (ids, before) => (await minQueue.getJobCounts('completed')).completed! - before >= ids.length,
      },
    );
    const pids = targets.map((t) => t.proc.proc.pid!);
    const run = (t: Target, n: number, clicks: number) => block(world, cb, t, n, clicks);
    for (const t of targets) {
      log(`warm-up: ${t.name}, ${WARMUP} escalations and ${WARMUP / 5} clicks`);
      await run(t, WARMUP, WARMUP / 5);
      await untilQuiet(pids);
    }
    const results: Array<Record<Target['name'], Block>> = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const order = r % 2 ? targets : [...targets].reverse();
      const row = {} as Record<Target['name'], Block>;
      for (const t of order) {
        row[t.name] = await run(t, COUNT, CLICKS);
        log(`round ${r}, ${t.name}: intake ${row[t.name].intakePerSec.toFixed(0)}/s, clicks ${row[t.name].clicksPerSec.toFixed(0)}/s (load ${loadavg()[0]!.toFixed(2)})`);
        await untilQuiet(pids);
      }
      results.push(row);
    }
    print(results);
    log(`load at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    for (const t of targets) t.proc.proc.kill('SIGTERM');
    await Promise.all(targets.map((t) => t.proc.exited));
    await minQueue.obliterate({ force: true }).catch(() => {});
    await dropRedisPrefix((await minQueue.getBackend().client) as unknown as Redis, minPrefix);
    await minQueue.close();
    await world.close();
    await cb.close();
  }
}

async function postedInDb(world: ChildBotWorld, ids: string[]): Promise<number> {
  const [row] = await world.sql<{ n: number }[]>`select count(*)::int as n from escalations where id = any(${ids}::uuid[]) and card_state = 'posted'`;
  return row?.n ?? 0;
}

/** Postgres transactions committed (read-only ones included) and rows written in this database, and commands the Redis server ran (all its clients: other users of this machine too). */
async function counters(world: ChildBotWorld, redis: Redis): Promise<{ commits: number; rows: number; redis: number }> {
  const [row] = await world.sql<{ commits: number; rows: number }[]>`
    select xact_commit::float8 as commits, (tup_inserted + tup_updated + tup_deleted)::float8 as rows from pg_stat_database where datname = current_database()`;
  const cmds = Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? 0);
  return { commits: row?.commits ?? 0, rows: row?.rows ?? 0, redis: cmds };
}

async function backendsCpu(world: ChildBotWorld): Promise<number> {
  const pids = await world.sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`;
  return pids.reduce((s, r) => s + procCpuMs(r.pid), 0);
}

/** One block on one target: `n` escalations to card, then `clicks` of them approved. */
async function block(world: ChildBotWorld, cb: Awaited<ReturnType<typeof startCallbackReceiver>>, t: Target, n: number, clicks: number): Promise<Block> {
  const { fake } = world;
  fake.reset();
  const posted = new Map<string, number>();
  fake.onCall('chat.postMessage', (call: FakeCall) => {
    const id = (call.args.metadata as { event_payload?: { escalation_id?: string } } | undefined)?.event_payload?.escalation_id;
    if (id && !posted.has(id)) posted.set(id, now());
  });
  const list = Array.from({ length: n }, () => makeEscalation({ callback: { url: cb.url } }));
  const ids = list.map((e) => e.id);
  const pid = t.proc.proc.pid!;
  const completedBefore = (await t.queue.getJobCounts('completed')).completed ?? 0;
  const logBefore = t.proc.output().length;
  const redis = (await t.queue.getBackend().client) as unknown as Redis;
  const k0 = await counters(world, redis);
  const redisPid = await redisServerPid(redis);
  const shared = () => ({ redis: procCpuMs(redisPid), harness: ownCpuMs(), machine: machineCpuMs() });
  const cpu0 = { proc: procCpuMs(pid), pg: await backendsCpu(world), ...shared() };
  const t0 = now();
  for (let i = 0; i < list.length; i += 1000) {
    await t.queue.addBulk(list.slice(i, i + 1000).map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
  }
  await until(() => posted.size >= n, `${t.name}: ${n} cards`, 180_000, 5).catch(async (err: Error) => {
    throw new Error(`${err.message} (${posted.size} posted; jobs ${JSON.stringify(await t.queue.getJobCounts())}; its output ends ${t.proc.output().slice(-600)})`);
  });
  await until(() => t.recorded(ids, completedBefore), `${t.name}: ${n} cards recorded`, 60_000, 10);
  const intakeSeconds = (now() - t0) / 1000;
  const intakeCpu = { proc: (procCpuMs(pid) - cpu0.proc) / n, pg: ((await backendsCpu(world)) - cpu0.pg) / n };
  const s1 = shared();
  const intakeShared = {
    redis: (s1.redis - cpu0.redis) / n,
    harness: (s1.harness - cpu0.harness) / n,
    machine: (s1.machine - cpu0.machine) / n,
    busy: (s1.machine - cpu0.machine) / (intakeSeconds * 1000 * cpus().length),
  };
  const logBytesPerEscalation = (t.proc.output().length - logBefore) / n;
  // The block's tail (the audit chain's sealing, Postgres's statistics) is counted in its work.
  await untilQuiet([pid]);
  const k1 = await counters(world, redis);
  const perEscalation = { commits: (k1.commits - k0.commits) / n, rows: (k1.rows - k0.rows) / n, redis: (k1.redis - k0.redis) / n };

  // Clicks on the first `clicks` cards, as Slack sends them.
  const wanted = new Set(ids.slice(0, clicks));
  const cards: Card[] = fake
    .messages(REFUNDS_CHANNEL)
    .filter((m) => wanted.has(m.metadata?.event_payload.escalation_id as string))
    .map((m) => ({ channel: REFUNDS_CHANNEL, m }));
  const bodies = cards.map((c) => approveBody(c)).filter((b): b is string => b !== undefined);
  if (bodies.length !== clicks) throw new Error(`${t.name}: ${bodies.length} of ${clicks} cards have an Approve button`);
  const url = `http://127.0.0.1:${t.proc.port}/slack/events`;
  const acks: number[] = [];
  const c0 = { proc: procCpuMs(pid), pg: await backendsCpu(world) };
  const c1 = now();
  await withConcurrency(CLICK_CONCURRENCY, bodies.length, async (i) => {
    const body = bodies[i]!;
    const s = now();
    const status = await post(url, body, { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(SIGNING_SECRET, body) });
    if (status !== 200) throw new Error(`${t.name}: click answered ${status}`);
    acks.push(now() - s);
  });
  await until(() => [...wanted].every((id) => cb.arrived.has(id)), `${t.name}: ${clicks} callbacks`, 60_000, 10);
  const clickSeconds = (now() - c1) / 1000;
  const clickCpu = { proc: (procCpuMs(pid) - c0.proc) / clicks, pg: ((await backendsCpu(world)) - c0.pg) / clicks };
  await untilQuiet([pid]);
  const k2 = await counters(world, redis);
  const perClick = { commits: (k2.commits - k1.commits) / clicks, rows: (k2.rows - k1.rows) / clicks, redis: (k2.redis - k1.redis) / clicks };
  if (cb.badSignatures() > 0) throw new Error(`${cb.badSignatures()} callbacks failed signature verification`);
  const ack = latency(acks);
  return {
    intakePerSec: n / intakeSeconds,
    intakeCpu,
    intakeShared,
    clicksPerSec: clicks / clickSeconds,
    clickAck: { p50: ack.p50, p99: ack.p99 },
    clickCpu,
    logBytesPerEscalation,
    perEscalation,
    perClick,
  };
}

const med = (xs: number[]) => percentile(xs, 50);
const f0 = (v: number) => Math.round(v).toLocaleString('en-US');
const f2 = (v: number) => v.toFixed(2);

function print(results: Array<Record<'bot' | 'minimal', Block>>): void {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log(`Intake to card, ${COUNT.toLocaleString('en-US')} escalations a block; clicks to callback, ${CLICKS.toLocaleString('en-US')} a block, ${CLICK_CONCURRENCY} in flight.\n`);
  console.log('| round | bot intake | minimal intake | bot ÷ minimal | bot clicks | minimal clicks | bot ÷ minimal |\n|---|---|---|---|---|---|---|');
  results.forEach((r, i) => {
    console.log(
      `| ${i + 1} | ${f0(r.bot.intakePerSec)}/s | ${f0(r.minimal.intakePerSec)}/s | ${ratio(r.bot.intakePerSec, r.minimal.intakePerSec)} | ${f0(r.bot.clicksPerSec)}/s | ${f0(r.minimal.clicksPerSec)}/s | ${ratio(r.bot.clicksPerSec, r.minimal.clicksPerSec)} |`,
    );
  });
  const intake = med(results.map((r) => r.bot.intakePerSec / r.minimal.intakePerSec));
  const clicks = med(results.map((r) => r.bot.clicksPerSec / r.minimal.clicksPerSec));
  console.log(`\nMedian ratio: intake ${intake.toFixed(2)}× (goal ≥ ${GOAL}×: ${intake >= GOAL ? 'pass' : 'FAIL'}), clicks ${clicks.toFixed(2)}×.\n`);
  console.log(ceiling(results));
  console.log('| per block (median) | bot | minimal |\n|---|---|---|');
  const m = (pick: (b: Block) => number, who: 'bot' | 'minimal') => med(results.map((r) => pick(r[who])));
  const both = (label: string, pick: (b: Block) => number, fmt: (v: number) => string) =>
    console.log(`| ${label} | ${fmt(m(pick, 'bot'))} | ${fmt(m(pick, 'minimal'))} |`);
  both('process CPU per escalation (ms)', (b) => b.intakeCpu.proc, f2);
  both('process busy during intake (share of one core)', (b) => (b.intakeCpu.proc * b.intakePerSec) / 1000, (v) => `${Math.round(v * 100)} %`);
  both('Postgres CPU per escalation (ms)', (b) => b.intakeCpu.pg, f2);
  both('Redis server CPU per escalation (ms)', (b) => b.intakeShared.redis, f2);
  both('harness CPU per escalation: fake Slack, driver, callback receiver (ms)', (b) => b.intakeShared.harness, f2);
  both('whole machine CPU per escalation (ms)', (b) => b.intakeShared.machine, f2);
  both(`machine busy during intake (share of its ${cpus().length} cores)`, (b) => b.intakeShared.busy, (v) => `${Math.round(v * 100)} %`);
  both('log output per escalation (bytes)', (b) => b.logBytesPerEscalation, f0);
  both('Postgres transactions per escalation (reads included)', (b) => b.perEscalation.commits, f2);
  both('Postgres rows written per escalation', (b) => b.perEscalation.rows, f2);
  both('Redis commands per escalation (server-wide)', (b) => b.perEscalation.redis, f2);
  both('process CPU per click (ms)', (b) => b.clickCpu.proc, f2);
  both('Postgres CPU per click (ms)', (b) => b.clickCpu.pg, f2);
  both('Postgres transactions per click (reads included)', (b) => b.perClick.commits, f2);
  both('Postgres rows written per click', (b) => b.perClick.rows, f2);
  both('Redis commands per click (server-wide)', (b) => b.perClick.redis, f2);
  both('click answered, p50 (ms)', (b) => b.clickAck.p50, f2);
  both('click answered, p99 (ms)', (b) => b.clickAck.p99, f2);
}

/**
 * What the goal leaves the bot, whatever it does: at full use of every core,
 * intake at the goal's rate leaves the cores' time over that rate for all the CPU
 * one escalation may cost anywhere on the machine. The minimal pipeline's costs
 * outside its own process (the same BullMQ job in Redis, the same post to the
 * same fake Slack, one committed row) are the least that part can be for any
 * pipeline on this harness; what remains of the budget after them is the most
 * the bot's own process could spend, with nothing over the minimal's in Postgres
 * or Redis. A bound, not a forecast: it assumes every core busy, which neither
 * pipeline reaches.
 */
function ceiling(results: Array<Record<'bot' | 'minimal', Block>>): string {
  const capacity = cpus().length * 1000;
  const outside = (b: Block) => b.intakeShared.machine - b.intakeCpu.proc;
  const goal = med(results.map((r) => GOAL * r.minimal.intakePerSec));
  const budget = capacity / goal;
  const minimalOutside = med(results.map((r) => outside(r.minimal)));
  const botOutside = med(results.map((r) => outside(r.bot)));
  return (
    `CPU budget of the goal: at ${f0(goal)} escalations/s (1.5× the minimal pipeline, median of the rounds) with all ${cpus().length} cores busy, ` +
    `${f2(budget)} ms of machine CPU per escalation in all. The minimal pipeline's Postgres, Redis, harness and the rest take ${f2(minimalOutside)} ms of it, ` +
    `leaving at most ${f2(budget - minimalOutside)} ms for the bot's own process (it uses ${f2(med(results.map((r) => r.bot.intakeCpu.proc)))} ms; ` +
    `the minimal pipeline's process ${f2(med(results.map((r) => r.minimal.intakeCpu.proc)))} ms). ` +
    `With the bot's own costs outside its process (${f2(botOutside)} ms), a bot process using no CPU would reach ${f0(capacity / botOutside)}/s.\n`
  );
}

runBench(main);
