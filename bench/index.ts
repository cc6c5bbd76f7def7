/**
 * `npm run bench [-- --quick] [-- --concurrency=N] [-- --no-build]`: one run on
 * this machine, printing a markdown table. Not a test: it measures, and stops
 * by itself. The bot runs in this process against the fake Slack (which
 * answers at once), a fresh Postgres database and a unique Redis prefix, both
 * removed at the end; the authorize rows (over BullMQ and over HTTP) run
 * first, against the bot as deployed (built, in its own process:
 * authorize-http-deployed.ts).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { authorizeHttpRows } from './authorize-http.js';
import { authorizeDeployed } from './authorize-http-deployed.js';
import { auditBench } from './audit.js';
import { auditLoadBench, auditLoadRows } from './audit-load.js';
import { auditSearchBench, printAuditSearch } from './audit-search.js';
import { bullmqBaseline, httpBaseline, postgresBaseline } from './baselines.js';
import { PACING, startBotBench } from './bot.js';
import { builtEntry, describeEntry } from './process.js';
import { routingBench, routingRows } from './routing.js';
import { standingBench } from './standing.js';
import { markdownTable, numberFlag, runBench, type Row } from './run.js';
import { lat, ms, now, perSec } from './stats.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');

/** Tried 25, 50, 100 and 200 on this 2-core machine: 50 gave the best latencies at the same throughput. */
const CONCURRENCY = numberFlag('concurrency', 50);
/** openDatabase's postgres.js pool size (src/db/client.ts). */
const PG_POOL = 20;
/** Pause between phases so that one phase's tail work does not land in the next one's figures. */
const SETTLE_MS = 1500;

const S = quick
  ? { warmup: 200, intake: 500, rate: 100, rateCount: 200, clicks: 100, clickWarmup: 50, clickConcurrency: 4, cbRate: 50, cbCount: 50, pgRows: 1000, bullJobs: 1000, authRate: 100, authCount: 200, authJobs: 1000, auditEvents: 20_000, searchRows: 100_000, searchReps: 10 }
  : { warmup: 1000, intake: 5000, rate: 100, rateCount: 1000, clicks: 500, clickWarmup: 100, clickConcurrency: 4, cbRate: 50, cbCount: 250, pgRows: 5000, bullJobs: 5000, authRate: 100, authCount: 1000, authJobs: 5000, auditEvents: 200_000, searchRows: 1_000_000, searchReps: 30 };

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);


async function main(): Promise<void> {
  const t0 = now();
  const load0 = loadavg()[0]!;
  const example = JSON.parse(readFileSync(new URL('../examples/escalation.json', import.meta.url), 'utf8')) as unknown;
  log(`${quick ? 'quick' : 'full'} run, WORKER_CONCURRENCY=${CONCURRENCY}, ${cpus().length} cores`);
  // First, with nothing else running: the authorize rows against the bot as deployed (issue 16: benchmarks measure the bot as it runs in production).
  const entry = await builtEntry(log);
  log(`the authorize rows: ${describeEntry(entry)}`);
  const { bull: authorized, http: authHttp } = await authorizeDeployed(
    entry,
    {
      bull: { concurrency: CONCURRENCY, rate: S.authRate, count: S.authCount, jobs: S.authJobs, warmup: Math.min(1000, S.authJobs) },
      http: { rate: S.authRate, count: S.authCount, concurrency: CONCURRENCY, jobs: S.authJobs, pool: PG_POOL },
    },
    log,
  );
  const { raw: rt, auth, loop: authLoop } = authorized;
  const bot = await startBotBench({ concurrency: CONCURRENCY });
  const rows: Row[] = [];
  const measured = async () => {
    log('baseline: raw Postgres');
    const pg = await postgresBaseline({ url: bot.h.dbUrl, pool: PG_POOL, concurrency: CONCURRENCY, rows: S.pgRows, payload: example });
    log('baseline: raw BullMQ');
    const bull = await bullmqBaseline({ concurrency: CONCURRENCY, jobs: S.bullJobs, warmup: Math.min(1000, S.bullJobs), rate: S.rate, latencyCount: S.rateCount / 2 });
    log(`intake: warm-up ${S.warmup}`);
    await bot.intakeThroughput(S.warmup);
    await bot.settle(SETTLE_MS);
    log(`intake: ${S.intake} escalations`);
    const intake = await bot.intakeThroughput(S.intake);
    await bot.settle(SETTLE_MS);
    log(`enqueue → card at ${S.rate}/s for ${S.rateCount / S.rate} s`);
    const steady = await bot.enqueueToCard(S.rate, S.rateCount);
    await bot.settle(SETTLE_MS);
    // Like every other row's, a warm-up: the first clicks pay once for Bolt's first auth.test,
    // the decision statements' preparation on each pooled connection and the JIT.
    log(`signed clicks: warm-up ${S.clickWarmup}`);
    await bot.clickAck(await bot.pendingCards(S.clickWarmup), S.clickConcurrency);
    await bot.settle(SETTLE_MS);
    log(`signed clicks: ${S.clicks}, ${S.clickConcurrency} at a time`);
    const toClick = await bot.pendingCards(S.clicks);
    await bot.settle(SETTLE_MS, { keepMessages: true });
    const acks = await bot.clickAck(toClick, S.clickConcurrency);
    log('baseline: trivial HTTP server');
    const httpBase = await httpBaseline({ requests: S.clicks, concurrency: S.clickConcurrency, body: bot.sampleClickBody() });
    await bot.settle(SETTLE_MS);
    log(`click → callback: ${S.cbCount} clicks at ${S.cbRate}/s`);
    const toCallBack = await bot.pendingCards(S.cbCount);
    await bot.settle(SETTLE_MS, { keepMessages: true });
    const cbs = await bot.clickToCallback(toCallBack, S.cbRate);
    log(`audit chain: seal and verify ${S.auditEvents} more events`);
    const audit = await auditBench(bot.h.dbUrl, S.auditEvents);
    return { pg, bull, intake, steady, acks, httpBase, cbs, audit };
  };
  const { pg, bull, intake, steady, acks, httpBase, cbs, audit } = await measured().finally(() => {
    log('cleaning up (database, Redis prefix)');
    return bot.close();
  });
  // After the bot is gone: it seeds its own scratch database, which would weigh on the phases above.
  log(`audit search: ${S.searchRows} records in a scratch database`);
  const search = await auditSearchBench({ rows: S.searchRows, reps: S.searchReps });

  const ack = acks.latency;
  const cbLat = cbs.latency;
  rows.push(
    { metric: 'baseline: raw BullMQ add→process throughput', figure: perSec(bull.jobsPerSec, 'jobs'), goal: '—', baseline: `${S.bullJobs} jobs, addBulk, trivial processor, concurrency ${CONCURRENCY}`, pass: undefined },
    { metric: 'baseline: raw BullMQ add→process latency', figure: lat(bull.latency), goal: '—', baseline: `${bull.latency.n} jobs at ${S.rate}/s`, pass: undefined },
    { metric: 'baseline: raw BullMQ round trip (add → trivial processor → waitUntilFinished)', figure: lat(rt.latency), goal: '—', baseline: `${rt.latency.n} jobs at ${S.authRate}/s, QueueEvents, concurrency ${CONCURRENCY}; 1 s blocks alternating with the authorize row`, pass: undefined },
    { metric: 'baseline: raw BullMQ addBulk → all completed', figure: perSec(rt.perSec, 'jobs'), goal: '—', baseline: `${S.authJobs} jobs, counted on QueueEvents 'completed'`, pass: undefined },
    { metric: 'baseline: raw Postgres single-row INSERT', figure: perSec(pg.singleRowsPerSec, 'rows'), goal: '—', baseline: `auto-commit, pool ${PG_POOL}, ${CONCURRENCY} in flight`, pass: undefined },
    { metric: 'baseline: raw Postgres batched INSERT', figure: perSec(pg.batchedRowsPerSec, 'rows'), goal: '—', baseline: '500 rows a statement', pass: undefined },
    { metric: 'baseline: raw Postgres transaction (BEGIN, 2 INSERTs, COMMIT)', figure: perSec(pg.txPerSec, 'tx'), goal: '—', baseline: `pool ${PG_POOL}, ${CONCURRENCY} in flight`, pass: undefined },
    {
      metric: `autonomous authorize() round trip at ${S.authRate}/s (${auth.latency.n}, support-agent crm.read, the bot its own process)`,
      figure: lat(auth.latency),
      goal: '—',
      baseline: `raw BullMQ round trip ${lat(rt.latency)}`,
      pass: undefined,
    },
    {
      metric: `autonomous authorize() p99 against its floor (the row above)`,
      figure: ms(auth.latency.p99),
      // An allow is answered only once its record is committed: the floor is a BullMQ round trip plus one committed INSERT.
      goal: `≤ 1.5× floor (${ms(1.5 * (rt.latency.p99 + authHttp.insert.p99))})`,
      baseline: `floor = raw BullMQ round trip p99 ${ms(rt.latency.p99)} + raw INSERT p99 at ${S.authRate}/s ${ms(authHttp.insert.p99)}`,
      pass: auth.latency.p99 <= 1.5 * (rt.latency.p99 + authHttp.insert.p99),
    },
    {
      metric: `autonomous decisions throughput (${S.authJobs}, addBulk → all completed, recorded in Postgres, the bot its own process)`,
      figure: perSec(auth.perSec, 'decisions'),
      goal: '≥ 2,000/s',
      baseline: `raw BullMQ ${perSec(rt.perSec, 'jobs')} (same measure)`,
      pass: auth.perSec >= 2000,
    },
    ...authorizeHttpRows(authHttp),
    {
      metric: `intake throughput to card (${S.intake} restricted actions)`,
      figure: perSec(intake.perSec, 'escalations'),
      goal: '≥ 1,000/s',
      baseline: `raw BullMQ ${perSec(bull.jobsPerSec, 'jobs')}; PG tx ${perSec(pg.txPerSec, 'tx')}`,
      pass: intake.perSec >= 1000,
    },
    {
      metric: `enqueue → card posted at ${S.rate}/s (${steady.latency.n})`,
      figure: lat(steady.latency),
      goal: 'p99 ≤ 50 ms',
      baseline: `raw BullMQ ${lat(bull.latency)}; queue.add itself ${lat(steady.addLatency)}`,
      pass: steady.latency.p99 <= 50,
    },
    {
      metric: `signed click → HTTP ack (${ack.n}, ${S.clickConcurrency} concurrent: ${Math.round(acks.perSec)} clicks/s)`,
      figure: lat(ack),
      goal: 'p99 ≤ 30 ms',
      baseline: `trivial HTTP server ${lat(httpBase)}`,
      pass: ack.p99 <= 30,
    },
    {
      metric: `signed click → HTTP ack at a steady ${S.cbRate}/s (the clicks below)`,
      figure: lat(cbs.ack),
      goal: 'p99 ≤ 30 ms',
      baseline: `trivial HTTP server ${lat(httpBase)}`,
      pass: cbs.ack.p99 <= 30,
    },
    {
      metric: `click → callback received (${cbLat.n} at ${S.cbRate}/s)`,
      figure: lat(cbLat),
      goal: 'p99 ≤ 100 ms',
      baseline: `raw BullMQ hop ${lat(bull.latency)} (the path has 2 hops)`,
      pass: cbLat.p99 <= 100,
    },
    {
      metric: `audit chain: seal (batch job, off the hot path)`,
      figure: perSec(audit.sealPerSec, 'records'),
      goal: '—',
      baseline: `raw Postgres batched INSERT ${perSec(pg.batchedRowsPerSec, 'rows')}`,
      pass: undefined,
    },
    {
      metric: `audit chain: countersign audit verify (${audit.checked} records)`,
      figure: perSec(audit.verifyPerSec, 'records'),
      goal: '≥ 100,000/s',
      baseline: '—',
      pass: audit.verifyPerSec >= 100_000,
    },
    {
      metric: `audit search over ${search.rows.toLocaleString('en-US')} records (${search.byQuery.length} filter mixes × ${S.searchReps}, page of 20)`,
      figure: lat(search.all),
      goal: 'p99 ≤ 50 ms',
      baseline: `primary-key SELECT ${lat(search.baseline)}`,
      pass: search.all.p99 <= 50,
    },
  );

  // Its own bots and database, after the main bot is gone: on-call routing costs and intake with a route on call.
  rows.push(...routingRows(await routingBench({ quick, concurrency: CONCURRENCY, log })));
  // Its own bot too: intake with the audit sealer running and anchoring on, alternating with the sealer paused.
  rows.push(...auditLoadRows(await auditLoadBench({ quick, concurrency: CONCURRENCY, log })));
  // Its own bot too: authorize() of a request an active standing approval covers, against the autonomous path's bar.
  rows.push(...(await standingBench(entry, { quick, concurrency: CONCURRENCY, log })));
  const duplicates = bot.duplicateCards();
  const out = [
    '',
    `Countersign bench (${quick ? 'quick' : 'full'}), ${cpus().length} cores, Node ${process.version}, ${((now() - t0) / 1000).toFixed(0)} s`,
    `Settings: WORKER_CONCURRENCY=${CONCURRENCY}, Postgres pool ${PG_POOL}, LOG_LEVEL=silent, WORKER_LOCK_MS=30000;`,
    `one channel with Slack pacing lifted (slack.postsPerSecondPerChannel=${PACING.postsPerSecondPerChannel}, postBurst=${PACING.postBurst}):`,
    'this measures pipeline capacity, not Slack pacing. The fake Slack answers at once, in this process.',
    '',
    ...markdownTable(rows),
    '',
    `Intake: ${S.intake} in ${intake.seconds.toFixed(2)} s (first addBulk → last postMessage and every card_posted row); ` +
      `CPU per escalation: ${intake.cpu.node.toFixed(2)} ms in this process (bot + fake Slack + driver), ` +
      `${intake.cpu.postgres.toFixed(2)} ms in its Postgres backends, ${intake.cpu.redis.toFixed(2)} ms in Redis.`,
    `Autonomous: ${S.authJobs} decisions in ${auth.seconds.toFixed(2)} s; CPU per decision: ${auth.cpu.node.toFixed(2)} ms in the bot's process, ` +
      `${auth.cpu.postgres.toFixed(2)} ms in its Postgres backends, ${auth.cpu.redis.toFixed(2)} ms in Redis (raw BullMQ: ${rt.cpu.node.toFixed(2)} ms a job in its worker's own process). ` +
      `Max round trip: authorize ${ms(auth.latency.max)}, raw ${ms(rt.latency.max)}; this process's event-loop delay (the driver's) p99/max ${ms(authLoop.p99)}/${ms(authLoop.max)} over both.`,
    `Clicks: ${cbs.cpu.toFixed(2)} ms of this process's CPU per click at ${S.cbRate}/s (decision, card update, callback, plus the fake Slack, callback receiver and driver).`,
    `Max: enqueue → card ${ms(steady.latency.max)}, ack ${ms(ack.max)}, click → callback ${ms(cbLat.max)}. ` +
      `Event-loop delay p99/max in those phases: ${ms(steady.loop.p99)}/${ms(steady.loop.max)}, ${ms(acks.loop.p99)}/${ms(acks.loop.max)}, ${ms(cbs.loop.p99)}/${ms(cbs.loop.max)}.`,
    `Machine load average (1 min) at start ${load0.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores: other work on the machine shows in every figure.`,
    `Cards posted twice for one escalation: ${duplicates}.`,
    printAuditSearch(search),
  ];
  process.stdout.write(out.join('\n'));
}

runBench(main);
