/**
 * On-call routing cost: choosing whom to page for one escalation (route
 * match, schedules, overrides from Postgres, presence and DND from the fake
 * Slack through the Redis cache, the `paged` event), with cache hits and
 * misses, beside baselines measured in the same run: the old issue-type
 * lookup, one bare event INSERT and one Redis MGET. Then intake throughput
 * to card with the card's route on call (cache warm) against the same bot
 * config without schedules, in alternating blocks.
 * Run alone: `npx tsx bench/routing.ts [--quick]`.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../src/config/file.js';
import { recordEvent } from '../src/db/queries/events.js';
import { routeByName, selectRoute } from '../src/domain/routing.js';
import { pageOnCall } from '../src/flow/page.js';
import type { FlowPorts, Logger } from '../src/flow/ports.js';
import { createSlackCache } from '../src/queue/slack-cache.js';
import { createSlackPort, createWebClient } from '../src/slack/web-port.js';
import { startFakeSlack } from '../test/support/fake-slack.js';
import { createMigratedDb } from '../test/support/migrated-db.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../test/support/services.js';
import { benchConfigText, startBotBench } from './bot.js';
import { markdownTable, runBench, type Row } from './run.js';
import { latency, lat, now, perSec, sleep, type Latency } from './stats.js';

const A = 'U0BENCHPRI1';
const B = 'U0BENCHSEC2';
const today = new Date().toISOString().slice(0, 10);

/** The bench config with the refunds route on call: two layers, a year-long shift each, so who is on call stays fixed. */
export function oncallConfigText(): string {
  const doc = parse(benchConfigText()) as { schedules?: unknown; routes: Array<Record<string, unknown>> };
  const rotation = (user: string) => ({ users: [user], kind: 'custom', intervalHours: 8760, handoff: '00:00', timezone: 'UTC', start: today });
  doc.schedules = {
    payments: {
      layers: [
        { name: 'primary', priority: 10, rotation: rotation(A) },
        { name: 'secondary', rotation: rotation(B) },
      ],
    },
  };
  const refunds = doc.routes.find((r) => r.name === 'refunds')!;
  refunds.schedules = ['payments'];
  return stringify(doc);
}

export interface RoutingFigures {
  /** Mean µs per call, over a tight loop (too fast for per-call timing). */
  selectOldUs: number;
  selectNewUs: number;
  insert: Latency;
  mget: Latency;
  pageHit: Latency;
  /** As the card does it: the event rides in card_posted's statement. */
  pageHitUnrecorded: Latency;
  pageMiss: Latency;
  pageNoSchedule: Latency;
  missSlackCalls: number;
  hitSlackCalls: number;
  intake?: { plain: number; oncall: number; n: number; blocks: number };
}

async function timed(n: number, fn: (i: number) => Promise<unknown> | unknown): Promise<Latency> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    await fn(i);
    out.push(now() - t);
  }
  return latency(out);
}

/** Per-escalation costs, one call at a time (no queueing in the figures). */
async function micro(n: number): Promise<Omit<RoutingFigures, 'intake'>> {
  const db = await createMigratedDb();
  const fake = await startFakeSlack();
  const redis = new Redis(REDIS_URL);
  const prefix = uniqueName('cs_bench_routing');
  try {
    const loaded = parseConfig(oncallConfigText(), 'bench config');
    const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };
    const cache = createSlackCache(redis, prefix);
    const ports: Pick<FlowPorts, 'db' | 'slack' | 'config' | 'log' | 'now'> = {
      db: db.database.db,
      slack: createSlackPort(createWebClient({ token: 'xoxb-bench', slackApiUrl: fake.url }), Date.now, { cache, ttl: () => ({ presenceMs: 60_000, dndMs: 60_000 }) }),
      config: { current: () => loaded },
      log: silent,
      now: () => new Date(),
    };
    const config = loaded.config;
    const facts = { issueType: 'refund', agentId: 'support-agent', actionType: 'payments.refund', urgency: 'normal' as const, labels: { team: 'support' } };
    const refunds = routeByName(config, 'refunds')!;
    const plain = routeByName(config, 'default')!;
    const page = (route = refunds, record = true) => pageOnCall(ports, { escalationId: randomUUID(), route, target: 'primary', urgency: 'normal', record });
    const loopUs = (fn: () => unknown) => {
      const reps = n * 100;
      const t = now();
      for (let i = 0; i < reps; i++) fn();
      return ((now() - t) * 1000) / reps;
    };

    // Warm-up: JIT, connections, and the cache for the hit case.
    for (let i = 0; i < Math.min(200, n); i++) await page();
    const selectOldUs = loopUs(() => selectRoute(config, 'refund'));
    const selectNewUs = loopUs(() => selectRoute(config, facts));
    const insert = await timed(n, () => recordEvent(ports.db, { escalationId: randomUUID(), type: 'paged', actor: 'system', data: { bench: true } }));
    const mget = await timed(n, () => redis.mget(`${prefix}:x`, `${prefix}:y`));
    const pageNoSchedule = await timed(n, () => page(plain));
    let calls = fake.calls.length;
    const pageHit = await timed(n, () => page());
    const pageHitUnrecorded = await timed(n, () => page(refunds, false));
    const hitSlackCalls = fake.calls.length - calls;
    calls = fake.calls.length;
    const keys = [`${prefix}:slack-cache:presence:${A}`, `${prefix}:slack-cache:dnd:${A}`];
    const pageMiss = await timed(n, async () => {
      await redis.del(...keys);
      await page();
    });
    const missSlackCalls = fake.calls.length - calls;
    return { selectOldUs, selectNewUs, insert, mget, pageHit, pageHitUnrecorded, pageMiss, pageNoSchedule, missSlackCalls, hitSlackCalls };
  } finally {
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
    await fake.close();
    await db.close();
  }
}

/**
 * Intake to card, with and without the route on call, in alternating blocks
 * on two bots (one at a time is loaded), so machine noise hits both alike.
 */
async function intakeCompare(opts: { concurrency: number; n: number; blocks: number; log: (m: string) => void }) {
  const plainBot = await startBotBench({ concurrency: opts.concurrency });
  const oncallBot = await startBotBench({ concurrency: opts.concurrency, config: oncallConfigText() });
  try {
    const sum = { plain: 0, oncall: 0, plainS: 0, oncallS: 0 };
    for (const bot of [plainBot, oncallBot]) {
      await bot.intakeThroughput(Math.min(500, opts.n));
      await bot.settle(1000);
    }
    for (let b = 0; b < opts.blocks; b++) {
      for (const [name, bot] of [['plain', plainBot], ['oncall', oncallBot]] as const) {
        opts.log(`routing: intake block ${b + 1}/${opts.blocks}, ${name}, ${opts.n} escalations`);
        const r = await bot.intakeThroughput(opts.n);
        sum[name] += opts.n;
        sum[name === 'plain' ? 'plainS' : 'oncallS'] += r.seconds;
        await bot.settle(1000);
      }
    }
    return { plain: sum.plain / sum.plainS, oncall: sum.oncall / sum.oncallS, n: opts.n, blocks: opts.blocks };
  } finally {
    await oncallBot.close();
    await plainBot.close();
  }
}

export async function routingBench(opts: { quick: boolean; concurrency: number; log: (m: string) => void; intake?: boolean }): Promise<RoutingFigures> {
  opts.log(`routing: per-escalation costs, ${opts.quick ? 300 : 2000} calls each`);
  const figures: RoutingFigures = await micro(opts.quick ? 300 : 2000);
  if (opts.intake !== false) {
    await sleep(500);
    figures.intake = await intakeCompare({ concurrency: opts.concurrency, n: opts.quick ? 500 : 2000, blocks: opts.quick ? 2 : 3, log: opts.log });
  }
  return figures;
}

/** Markdown rows in the shape of bench/index.ts's table. */
export function routingRows(f: RoutingFigures): Row[] {
  const rows = [
    { metric: 'routing: select route (issue type, agent, action glob, urgency, labels)', figure: `${f.selectNewUs.toFixed(2)} µs`, goal: '—', baseline: `issue type only (before) ${f.selectOldUs.toFixed(2)} µs`, pass: undefined },
    { metric: 'routing: page on call for a card, cache hit (event rides with card_posted)', figure: lat(f.pageHitUnrecorded), goal: '—', baseline: `Redis MGET ${lat(f.mget)}; Slack calls: ${f.hitSlackCalls}`, pass: f.hitSlackCalls === 0 ? undefined : false },
    { metric: 'routing: page on call with its own paged INSERT (chain steps), cache hit', figure: lat(f.pageHit), goal: '—', baseline: `one event INSERT ${lat(f.insert)}`, pass: undefined },
    { metric: 'routing: page on call, cache miss (users.getPresence + dnd.info)', figure: lat(f.pageMiss), goal: '—', baseline: `${f.missSlackCalls} Slack calls for ${f.pageMiss.n} pages (2 each)`, pass: undefined },
    { metric: 'routing: route without schedules (nothing to page)', figure: lat(f.pageNoSchedule), goal: '—', baseline: `Redis MGET ${lat(f.mget)}`, pass: undefined },
  ];
  if (f.intake) {
    const drop = 1 - f.intake.oncall / f.intake.plain;
    rows.push({
      metric: `intake throughput to card with the route on call (${f.intake.blocks}× ${f.intake.n}, alternating)`,
      figure: perSec(f.intake.oncall, 'escalations'),
      goal: '≥ 90% of the same without schedules',
      baseline: `without schedules ${perSec(f.intake.plain, 'escalations')} (${(100 * (1 - drop)).toFixed(0)}%)`,
      pass: drop <= 0.1,
    });
  }
  return rows;
}

// `npx tsx bench/routing.ts [--quick] [--no-intake]`: this module alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
  runBench(async () => {
    const f = await routingBench({ quick: args.includes('--quick'), concurrency: 50, log, intake: !args.includes('--no-intake') });
    process.stdout.write(markdownTable(routingRows(f)).join('\n') + '\n');
  });
}
