import { once } from 'node:events';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { EscalationInput } from '../src/domain/escalation.js';
import { ESCALATIONS_QUEUE } from '../src/queue/names.js';
import { REDIS_URL, uniqueName, dropRedisPrefix } from '../test/support/services.js';
import { makeEscalation, type Harness } from '../test/support/harness.js';
import { cpuMeter, ownCpuMs, procCpuMs } from './cpu.js';
import { spawnScript } from './process.js';
import { rawWorker } from './raw-bull-worker.js';
import { atRate, latency, now, until, watchLoop, type Latency, type LoopDelay } from './stats.js';

/**
 * An autonomous request (policy: support-agent's crm.read), fresh id, no
 * callback: the whole answer is the job's return value.
 */
export function autonomousEscalation(): EscalationInput {
  const e = makeEscalation({
    action: { type: 'crm.read', params: { customerId: 'cus_4521' }, reversible: true, summary: 'Read the customer record for order #4521' },
    confidence: 0.95,
    issueType: 'refund',
  });
  delete e.callback;
  return e;
}

/** Counts QueueEvents 'completed' for the ids it is told about. */
function completions(events: QueueEvents) {
  let watched = new Set<string>();
  let done = 0;
  const onCompleted = ({ jobId }: { jobId: string }) => {
    if (watched.delete(jobId)) done++;
  };
  events.on('completed', onCompleted);
  return {
    watch(ids: string[]) {
      watched = new Set(ids);
      done = 0;
    },
    done: () => done,
    off: () => events.off('completed', onCompleted),
  };
}

/** addBulk in chunks of 1000, jobId = id; resolves with the time until every job completed (s). */
async function bulkToCompleted(queue: Queue, events: QueueEvents, items: Array<{ id: string; data: unknown }>, what: string): Promise<number> {
  const c = completions(events);
  try {
    c.watch(items.map((x) => x.id));
    const t0 = now();
    for (let i = 0; i < items.length; i += 1000) {
      await queue.addBulk(items.slice(i, i + 1000).map((x) => ({ name: 'escalation', data: x.data, opts: { jobId: x.id } })));
    }
    await until(() => c.done() >= items.length, what, 120_000, 2);
    return (now() - t0) / 1000;
  } finally {
    c.off();
  }
}

/**
 * Raw BullMQ, the floor under `authorize`: add → trivial processor →
 * job.waitUntilFinished via QueueEvents, the bot's worker concurrency, job
 * data the size of the autonomous request.
 */
export async function startRawBull(concurrency: number, opts: { ownProcess?: boolean } = {}) {
  const prefix = uniqueName('csbench');
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  const queue = new Queue('raw', { connection, prefix });
  queue.setMaxListeners(0);
  const worker = opts.ownProcess ? await spawnRawWorker(prefix, concurrency) : rawWorker(prefix, concurrency);
  const events = new QueueEvents('raw', { connection, prefix });
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
  let closed = false;
  return {
    /** The worker's process, when it has one of its own. */
    pid: 'pid' in worker ? worker.pid : undefined,
    async roundTrip(e: EscalationInput): Promise<void> {
      const job = await queue.add('escalation', e, { jobId: e.id });
      await job.waitUntilFinished(events, 10_000);
    },
    bulk: (items: Array<{ id: string; data: unknown }>, what: string) => bulkToCompleted(queue, events, items, what),
    async close() {
      if (closed) return;
      closed = true;
      await worker.close();
      await events.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      const redis = new Redis(REDIS_URL);
      await dropRedisPrefix(redis, prefix);
      redis.disconnect();
    },
  };
}

export interface AuthorizeFigures {
  /** add → processed → answer resolved, at a steady rate. */
  latency: Latency;
  /** addBulk N → N 'completed' events seen on QueueEvents. */
  perSec: number;
  seconds: number;
  /** CPU ms per job in the throughput phase: this process, (for the bot) its Postgres backends, Redis. */
  cpu: { node: number; postgres: number; redis: number };
}

/** bench/raw-bull-worker.ts in a process of its own, shaped like the Worker it stands for (ready once spawned). */
async function spawnRawWorker(prefix: string, concurrency: number) {
  const { proc } = await spawnScript('./raw-bull-worker.ts', { RAW_PREFIX: prefix, RAW_CONCURRENCY: String(concurrency) });
  return {
    pid: proc.pid!,
    waitUntilReady: async () => {},
    close: async () => {
      if (proc.exitCode !== null) return;
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The bot `authorizeVsRaw` drives: the harness's (in this process) or one as
 * deployed, whose process `pid` its CPU figure is then read from.
 */
export type AuthorizeTarget = Pick<Harness, 'prefix' | 'sql' | 'dbUrl' | 'redis' | 'client' | 'queue'> & { pid?: number };

/**
 * Autonomous `client.authorize()` against the running bot beside the raw
 * BullMQ round trip, in one phase: the steady-rate latencies alternate in
 * blocks of one second (raw, authorize, raw, …) so that whatever else the
 * machine does lands on both alike. Then throughput: addBulk N, raw first,
 * then autonomous escalations. Every answer must be `allow`, and every
 * decision recorded in Postgres with its `received` event.
 */
export async function authorizeVsRaw(
  h: AuthorizeTarget,
  opts: { concurrency: number; rate: number; count: number; jobs: number; warmup: number },
): Promise<{ raw: AuthorizeFigures; auth: AuthorizeFigures; loop: LoopDelay }> {
  // A bot in its own process is measured beside a raw worker in its own process.
  const raw = await startRawBull(opts.concurrency, { ownProcess: h.pid !== undefined });
  const events = new QueueEvents(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
  await events.waitUntilReady();
  const meter = await cpuMeter(h.sql, new URL(h.dbUrl).pathname.slice(1), h.redis, h.pid);
  const checkRecorded = async (ids: string[]) => {
    const [row] = await h.sql<{ allowed: number; received: number }[]>`
      select (select count(*)::int from escalations where id = any(${ids}::uuid[]) and status = 'allowed' and decided_by = 'policy') as allowed,
             (select count(*)::int from events where type = 'received' and escalation_id = any(${ids}::uuid[])) as received`;
    if (row?.allowed !== ids.length || row.received !== ids.length) {
      throw new Error(`autonomous decisions recorded: ${row?.allowed}/${ids.length} rows, ${row?.received}/${ids.length} events`);
    }
  };
  const fresh = () => {
    const e = autonomousEscalation();
    return { id: e.id, data: e };
  };
  const authorize = async (e: EscalationInput) => {
    const a = await h.client.authorize(e);
    if (a.decision !== 'allow' || a.code !== 'policy_allowed') throw new Error(`autonomous authorize answered ${JSON.stringify(a)}`);
  };
  try {
    // Warm-up: both QueueEvents, prepared statements, the workers.
    for (let i = 0; i < 20; i++) {
      await raw.roundTrip(autonomousEscalation());
      await authorize(autonomousEscalation());
    }
    await raw.bulk(Array.from({ length: opts.warmup }, fresh), 'raw warm-up');
    await bulkToCompleted(h.queue, events, Array.from({ length: opts.warmup }, fresh), 'autonomous warm-up');

    const lats = { raw: [] as number[], auth: [] as number[] };
    const ids: string[] = [];
    const block = Math.max(1, Math.round(opts.rate));
    const loop = watchLoop();
    for (let done = 0, b = 0; done < 2 * opts.count; b++) {
      const which = b % 2 === 0 ? 'raw' : 'auth';
      const n = Math.min(block, opts.count - lats[which].length);
      await atRate(opts.rate, n, async () => {
        const e = autonomousEscalation();
        if (which === 'auth') ids.push(e.id);
        const t0 = now();
        await (which === 'raw' ? raw.roundTrip(e) : authorize(e));
        lats[which].push(now() - t0);
      });
      done += n;
    }
    const loopDelay = loop();
    await checkRecorded(ids);

    const rawItems = Array.from({ length: opts.jobs }, fresh);
    const rawCpu = () => (raw.pid === undefined ? ownCpuMs() : procCpuMs(raw.pid));
    const c0 = rawCpu();
    const rawSeconds = await raw.bulk(rawItems, `${opts.jobs} raw jobs`);
    const c1 = rawCpu() - c0;
    await raw.close();

    const items = Array.from({ length: opts.jobs }, fresh);
    const cpu0 = await meter.take();
    const seconds = await bulkToCompleted(h.queue, events, items, `${opts.jobs} autonomous decisions`);
    const cpu = meter.per(cpu0, await meter.take(), opts.jobs);
    await checkRecorded(items.map((x) => x.id));
    return {
      raw: { latency: latency(lats.raw), perSec: opts.jobs / rawSeconds, seconds: rawSeconds, cpu: { node: c1 / opts.jobs, postgres: 0, redis: Number.NaN } },
      auth: { latency: latency(lats.auth), perSec: opts.jobs / seconds, seconds, cpu },
      loop: loopDelay,
    };
  } finally {
    await raw.close().catch(() => {});
    await events.close();
  }
}
