/**
 * The audit trail under the core loop's load: intake to card (bench/bot.ts
 * intakeThroughput) with the audit machinery fully on — the sealer running
 * every second, anchoring configured (every minute) — against the same bot
 * with the maintenance queue paused (no sealing, no anchoring), in
 * alternating blocks, so machine noise hits both alike. Reports events
 * inserted/s and sealed/s during the load, the intake ratio (on / off), and
 * the sealer's lag: unsealed events when the load ends (those younger than the
 * sealer's deliberate 5 s lag, and those older) and how long it takes to catch up.
 * Run alone: `npx tsx bench/audit-load.ts [--quick]`.
 */
import { Queue } from 'bullmq';
import { parse, stringify } from 'yaml';
import { MAINTENANCE_QUEUE } from '../src/queue/names.js';
import { REDIS_URL } from '../test/support/services.js';
import { benchConfigText, startBotBench, type BotBench } from './bot.js';
import { markdownTable, runBench, type Row } from './run.js';
import { cpuMeter, type CpuSnapshot } from './cpu.js';
import { now, perSec, sleep, until } from './stats.js';

/** Where the bench bot posts its chain head; the fake Slack accepts any channel. */
const ANCHOR_CHANNEL = 'C0AUDITBNCH';
/** src/db/queries/audit-chain.ts: events younger than this are left for the next run, on purpose (ms). */
const SEAL_LAG_MS = 5000;
/** Behind on purpose: the 5 s lag, the sealer's 1 s cadence and a second's slack; anything older is the sealer falling behind (ms). */
const BEHIND_MS = SEAL_LAG_MS + 2000;

export function auditOnConfigText(): string {
  const doc = parse(benchConfigText()) as Record<string, unknown>;
  doc.audit = { anchor: { channel: ANCHOR_CHANNEL, everyMinutes: 1 } };
  return stringify(doc);
}

export interface AuditLoadFigures {
  n: number;
  blocks: number;
  /** Intake to card, escalations/s over all blocks of each kind. */
  intakeOn: number;
  intakeOff: number;
  /** During the audit-on blocks: events inserted and chain links written, per second of load. */
  insertedPerSec: number;
  sealedPerSec: number;
  /** During the audit-off blocks (sealer paused): events inserted per second; sealed must be 0. */
  insertedOffPerSec: number;
  sealedOff: number;
  /** Worst audit-on block: unsealed events when its last card was recorded, and how many of them were older than BEHIND_MS. */
  unsealedAtEnd: number;
  unsealedBeyondLag: number;
  /** Worst audit-on block: seconds from the end of its load until every event was sealed. */
  catchUpS: number;
  /** After each audit-off block: its backlog sealed once the sealer resumed (records, seconds, worst block). */
  backlog: number;
  backlogS: number;
  anchors: number;
  /**
   * CPU ms per escalation (this process, which saturates first, + its Postgres backends):
   * audit on counts from the block's start until its events are all sealed, less the idle
   * cost of waiting out the 5 s lag; off, the load alone. Unlike the rates, CPU time hardly
   * moves with other work on the machine.
   */
  cpuOn: { node: number; postgres: number };
  cpuOff: { node: number; postgres: number };
  /** Sealing a paused block's backlog: CPU ms per sealed record. */
  sealCpu: { node: number; postgres: number };
}

interface Counts {
  events: number;
  sealed: number;
  unsealed: number;
  unsealedOld: number;
}

async function counts(bot: BotBench): Promise<Counts> {
  const [r] = await bot.h.sql<Array<{ events: number; sealed: number; unsealed: number; unsealed_old: number }>>`
    with head as (select coalesce(max(event_id), 0) as id from audit_chain)
    select (select count(*)::int from events) as events,
      (select count(*)::int from audit_chain) as sealed,
      (select count(*)::int from events, head where events.id > head.id) as unsealed,
      (select count(*)::int from events, head where events.id > head.id and events.at < now() - ${`${BEHIND_MS} milliseconds`}::interval) as unsealed_old`;
  return { events: r!.events, sealed: r!.sealed, unsealed: r!.unsealed, unsealedOld: r!.unsealed_old };
}

/** Seconds until the sealer has caught up with every event (it runs every second, on events ≥ 5 s old). Two index probes a poll. */
async function caughtUp(bot: BotBench): Promise<number> {
  const t0 = now();
  const done = async () =>
    (await bot.h.sql<Array<{ behind: boolean }>>`
      select exists (select 1 from events where id > (select coalesce(max(event_id), 0) from audit_chain)) as behind`)[0]!.behind === false;
  await until(done, 'the sealer to catch up', 120_000, 100);
  return (now() - t0) / 1000;
}

export async function auditLoadBench(opts: { quick: boolean; concurrency: number; log: (m: string) => void }): Promise<AuditLoadFigures> {
  // Full blocks last about 10 s at 1,200/s (20 s at 600/s), so the sealer runs during the load, past its
  // 5 s lag; quick blocks are shorter than the lag, so their events are sealed only after the load (the
  // CPU row still counts it). 6,000 was enough at 600/s; at 1,200/s those blocks ended inside the lag.
  const n = opts.quick ? 1000 : 12_000;
  const blocks = opts.quick ? 2 : 4;
  const bot = await startBotBench({ concurrency: opts.concurrency, config: auditOnConfigText() });
  const maintenance = new Queue(MAINTENANCE_QUEUE, { connection: { url: REDIS_URL }, prefix: bot.h.prefix });
  const meter = await cpuMeter(bot.h.sql, new URL(bot.h.dbUrl).pathname.slice(1), bot.h.redis);
  const cpu = { on: { node: 0, postgres: 0 }, off: { node: 0, postgres: 0 }, seal: { node: 0, postgres: 0, records: 0 } };
  let idle = { node: 0, postgres: 0 };
  /** CPU between two snapshots, less what idling would have cost over `idleMs`. */
  const add = (into: { node: number; postgres: number }, a: CpuSnapshot, b: CpuSnapshot, idleMs = 0) => {
    const d = meter.per(a, b, 1);
    into.node += d.node - idle.node * idleMs;
    into.postgres += d.postgres - idle.postgres * idleMs;
  };
  try {
    opts.log(`audit under load: warm-up ${n}`);
    await bot.intakeThroughput(n);
    await caughtUp(bot);
    // What the bot, its pollers and this bench cost with nothing to do (CPU ms per ms), subtracted from the catch-up waits below.
    await maintenance.pause();
    await bot.settle(1000);
    const i0 = await meter.take();
    const idleT0 = now();
    await sleep(3000);
    idle = meter.per(i0, await meter.take(), now() - idleT0);
    const on = { n: 0, s: 0, inserted: 0, sealed: 0 };
    const off = { n: 0, s: 0, inserted: 0, sealed: 0 };
    const worst = { unsealed: 0, old: 0, catchUp: 0, backlog: 0, backlogS: 0 };
    for (let b = 0; b < blocks; b++) {
      // Alternate which kind goes first, so a drift in the machine's load favours neither.
      const order = b % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const kind of order) {
        // Each block starts with the chain sealed up to date: an on-block seals only its own events.
        await maintenance.resume();
        await caughtUp(bot);
        if (kind === 'off') await maintenance.pause();
        await bot.settle(1000);
        opts.log(`audit under load: block ${b + 1}/${blocks}, sealer ${kind === 'on' ? 'running' : 'paused'}, ${n} escalations`);
        const c0 = await counts(bot);
        const s0 = await meter.take();
        const r = await bot.intakeThroughput(n);
        const c1 = await counts(bot);
        opts.log(`audit under load: ${perSec(n / r.seconds, 'escalations')}, ${c1.events - c0.events} events inserted, ${c1.sealed - c0.sealed} sealed, ${c1.unsealed} unsealed at the end`);
        const sum = kind === 'on' ? on : off;
        sum.n += n;
        sum.s += r.seconds;
        sum.inserted += c1.events - c0.events;
        sum.sealed += c1.sealed - c0.sealed;
        if (kind === 'on') {
          const catchUp = await caughtUp(bot);
          add(cpu.on, s0, await meter.take(), catchUp * 1000);
          if (catchUp > worst.catchUp) Object.assign(worst, { unsealed: c1.unsealed, old: c1.unsealedOld, catchUp });
        } else {
          add(cpu.off, s0, await meter.take());
          const b0 = await meter.take();
          await maintenance.resume();
          const backlogS = await caughtUp(bot);
          add(cpu.seal, b0, await meter.take(), backlogS * 1000);
          cpu.seal.records += c1.unsealed;
          if (backlogS > worst.backlogS) Object.assign(worst, { backlog: c1.unsealed, backlogS });
        }
      }
    }
    const [a] = await bot.h.sql<Array<{ n: number }>>`select count(*)::int as n from events where type = 'audit_anchored'`;
    return {
      n,
      blocks,
      intakeOn: on.n / on.s,
      intakeOff: off.n / off.s,
      insertedPerSec: on.inserted / on.s,
      sealedPerSec: on.sealed / on.s,
      insertedOffPerSec: off.inserted / off.s,
      sealedOff: off.sealed,
      unsealedAtEnd: worst.unsealed,
      unsealedBeyondLag: worst.old,
      catchUpS: worst.catchUp,
      backlog: worst.backlog,
      backlogS: worst.backlogS,
      anchors: a?.n ?? 0,
      cpuOn: { node: cpu.on.node / on.n, postgres: cpu.on.postgres / on.n },
      cpuOff: { node: cpu.off.node / off.n, postgres: cpu.off.postgres / off.n },
      sealCpu: { node: cpu.seal.node / cpu.seal.records, postgres: cpu.seal.postgres / cpu.seal.records },
    };
  } finally {
    await maintenance.resume().catch(() => {});
    await maintenance.close();
    await bot.close();
  }
}

/** Markdown rows in the shape of bench/index.ts's table. */
export function auditLoadRows(f: AuditLoadFigures): Row[] {
  const ratio = f.intakeOn / f.intakeOff;
  // Events per escalation (received, card_posted) times sealing's CPU per record, against the load's own.
  const sealShare = ((f.insertedOffPerSec / f.intakeOff) * f.sealCpu.node) / f.cpuOff.node;
  return [
    {
      metric: `intake throughput to card with the audit sealer running and anchoring on (${f.blocks}× ${f.n}, alternating with it paused)`,
      figure: perSec(f.intakeOn, 'escalations'),
      goal: 'the core loop\'s intake goal still holds: ratio to sealer paused ≥ 0.9',
      baseline: `sealer paused ${perSec(f.intakeOff, 'escalations')} (ratio ${ratio.toFixed(2)})`,
      pass: ratio >= 0.9,
    },
    {
      metric: 'audit insert rate during that load (events inserted; chain links sealed)',
      figure: `${perSec(f.insertedPerSec, 'events')} inserted; ${perSec(f.sealedPerSec, 'records')} sealed`,
      goal: '—',
      baseline: `sealer paused: ${perSec(f.insertedOffPerSec, 'events')} inserted, ${f.sealedOff} sealed`,
      pass: undefined,
    },
    {
      metric: 'CPU per escalation, audit on (the load, then sealing its events; idle waiting subtracted) vs sealer paused: this process + its Postgres backends',
      figure: `${f.cpuOn.node.toFixed(2)} + ${f.cpuOn.postgres.toFixed(2)} ms`,
      goal: '—',
      baseline: `sealer paused ${f.cpuOff.node.toFixed(2)} + ${f.cpuOff.postgres.toFixed(2)} ms (this process ×${(f.cpuOn.node / f.cpuOff.node).toFixed(2)}); sealing alone ${(1000 * f.sealCpu.node).toFixed(1)} + ${(1000 * f.sealCpu.postgres).toFixed(1)} µs a record, ${(100 * sealShare).toFixed(0)}% of this process's CPU per escalation`,
      pass: undefined,
    },
    {
      metric: 'audit sealer lag when the load ends (worst block)',
      figure: `${f.unsealedAtEnd.toLocaleString('en-US')} unsealed (${f.unsealedBeyondLag.toLocaleString('en-US')} older than 7 s: the 5 s lag + 1 s cadence + 1 s); caught up in ${f.catchUpS.toFixed(1)} s`,
      goal: 'none older than 7 s',
      baseline: `a paused block's backlog of ${f.backlog.toLocaleString('en-US')} sealed in ${f.backlogS.toFixed(1)} s once resumed; ${f.anchors} anchors posted`,
      pass: f.unsealedBeyondLag === 0,
    },
  ];
}

// `npx tsx bench/audit-load.ts [--quick]`: this module alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
  runBench(async () => {
    const f = await auditLoadBench({ quick: args.includes('--quick'), concurrency: 50, log });
    process.stdout.write(markdownTable(auditLoadRows(f)).join('\n') + `\n${JSON.stringify(f)}\n`);
  });
}
