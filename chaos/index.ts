/**
 * `npm run chaos [-- --quick] [-- --only=worker-kill,pg-outage]`: drives the
 * real bot (src/main.ts, as separate OS processes) through faults and counts
 * what was lost, duplicated or left stuck. Not part of `npm test`. Loopback
 * only; each case has its own Postgres database and Redis prefix, removed at
 * its end, and a hard time limit. Prints one row per case and a markdown
 * table; exits 1 when any case lost or duplicated anything, failed, or ran
 * out of time.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { QUEUED_REPLY } from '../src/slack/listeners/decision-ack.js';
import type { CaseContext, CaseResult, ChaosCase } from './case.js';
import { clickKill } from './cases/click-kill.js';
import { doubleDelivery } from './cases/double-delivery.js';
import { pgOutage } from './cases/pg-outage.js';
import { redisFlush } from './cases/redis-flush.js';
import { slackSlow } from './cases/slack-slow.js';
import { slackStorm } from './cases/slack-storm.js';
import { workerKill } from './cases/worker-kill.js';
import { sent, startChaosWorld, type ChaosWorld } from './world.js';

const CASES: ChaosCase[] = [workerKill, slackStorm, redisFlush, clickKill, pgOutage, slackSlow, doubleDelivery];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',').filter(Boolean);
/** `--worker-lock-ms=N`: the bots' WORKER_LOCK_MS (default 1500, as the crash tests: a killed worker's jobs return fast). */
const lockMs = args.find((a) => a.startsWith('--worker-lock-ms='))?.slice('--worker-lock-ms='.length);
/**
 * A case's hard limit, bot start-up included (ms): past it the case is reported as timed out and its world closed.
 * Room for the minute sweep's two minutes (UNNOTIFIED_SWEEP_MS) after a crash.
 */
const CASE_LIMIT_MS = quick ? 180_000 : 240_000;

const log = (msg: string) => process.stderr.write(`chaos: ${msg}\n`);

interface Row {
  name: string;
  result?: CaseResult;
  clicks: number;
  wallMs: number;
  error?: string;
}

const failed = (r: Row) =>
  r.error !== undefined || !r.result || r.result.lost > 0 || r.result.duplicated.cards + r.result.duplicated.decisions + r.result.duplicated.callbacks > 0;

function line(r: Row): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  if (!r.result) return `| ${r.name} | — | ${r.clicks} | — | — | — | — | — | — | ${s(r.wallMs)} | FAIL: ${r.error} |`;
  const t = r.result;
  // One table row: no line breaks or pipes from log messages, and long messages cut.
  const notes = [...(r.error ? [`FAIL: ${r.error}`] : []), ...t.notes, ...t.details]
    .map((n) => (n.length > 300 ? `${n.slice(0, 300)}…` : n))
    .join('; ')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '/');
  return `| ${r.name} | ${t.escalations} | ${r.clicks} | ${t.lost} | ${t.duplicated.cards} | ${t.duplicated.decisions} | ${t.duplicated.callbacks} | ${t.stuck} | ${s(t.durationMs)} | ${s(r.wallMs)} | ${notes} |`;
}

const HEADER = [
  '| case | escalations | clicks | lost | dup cards | dup decisions | dup callbacks | stuck | duration | wall | notes |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];

async function runCase(c: ChaosCase): Promise<Row> {
  const worlds: ChaosWorld[] = [];
  const deferred: Array<() => Promise<void> | void> = [];
  const ctx: CaseContext = {
    quick,
    log: (msg) => log(`${c.name}: ${msg}`),
    async world(opts) {
      const w = await startChaosWorld(lockMs ? { ...opts, env: { WORKER_LOCK_MS: lockMs, ...opts?.env } } : opts);
      worlds.push(w);
      return w;
    },
    defer: (fn) => void deferred.push(fn),
  };
  sent.clicks = 0;
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${CASE_LIMIT_MS / 1000} s`)), CASE_LIMIT_MS);
  });
  const running = c.run(ctx);
  running.catch(() => {}); // a case cut off by its limit fails on its closed world: already reported.
  try {
    const result = await Promise.race([running, limit]);
    for (const w of worlds) {
      const errors = w.botErrors();
      if (errors.count) result.notes.push(`the bots logged ${errors.count} error lines (first: ${errors.samples[0]})`);
      // An acknowledged click whose commit then failed: queued, recorded by its job once Postgres answers (lost above if it never was).
      const queued = w.world.fake.callsTo('chat.postEphemeral').filter((c) => String(c.args.text).includes(QUEUED_REPLY)).length;
      if (queued) result.notes.push(`${queued} clicks acknowledged before Postgres answered, recorded by their queued job`);
    }
    return { name: c.name, result, clicks: sent.clicks, wallMs: Date.now() - t0 };
  } catch (err) {
    return { name: c.name, clicks: sent.clicks, wallMs: Date.now() - t0, error: (err as Error).message.split('\n')[0] };
  } finally {
    clearTimeout(timer);
    for (const fn of deferred.reverse()) await Promise.resolve(fn()).catch((err: Error) => log(`${c.name}: cleanup: ${err.message}`));
    for (const w of worlds) {
      const errors = w.botErrors();
      if (errors.count) log(`${c.name}: the bots logged ${errors.count} error lines, e.g. ${errors.samples.join(' | ')}`);
    }
    for (const w of worlds) await w.close().catch((err: Error) => log(`${c.name}: closing its world: ${err.message}`));
  }
}

async function main(): Promise<number> {
  const unknown = only?.filter((n) => !CASES.some((c) => c.name === n)) ?? [];
  if (unknown.length) {
    log(`no case named ${unknown.join(', ')}; the cases: ${CASES.map((c) => c.name).join(', ')}`);
    return 2;
  }
  const chosen = CASES.filter((c) => !only || only.includes(c.name));
  const started = new Date();
  const load0 = loadavg()[0]!;
  log(`${quick ? 'quick' : 'full'} run (WORKER_LOCK_MS ${lockMs ?? 1500}) of ${chosen.map((c) => c.name).join(', ')} on ${cpus().length} cores, Node ${process.version}`);
  const rows: Row[] = [];
  for (const c of chosen) {
    log(`${c.name}: ${c.fault}`);
    const row = await runCase(c);
    rows.push(row);
    process.stdout.write(`${line(row)}\n`);
  }
  const out = [
    '',
    `Chaos run (${quick ? 'quick' : 'full'}, WORKER_LOCK_MS ${lockMs ?? 1500}), ${started.toISOString()}: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${load0.toFixed(2)} at start and ${loadavg()[0]!.toFixed(2)} at the end.`,
    '',
    ...HEADER,
    ...rows.map(line),
    '',
    ...chosen.map((c) => `- **${c.name}**: ${c.fault}.`),
    '',
  ];
  process.stdout.write(out.join('\n'));
  const bad = rows.filter(failed).map((r) => r.name);
  log(bad.length ? `FAILED: ${bad.join(', ')}` : 'every case: nothing lost, nothing duplicated');
  return bad.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`failed: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
