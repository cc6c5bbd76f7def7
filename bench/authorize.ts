import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { EscalationInput } from '../src/domain/escalation.js';
import { ESCALATIONS_QUEUE } from '../src/queue/names.js';
import { REDIS_URL, uniqueName } from '../test/support/services.js';
import { makeEscalation, type Harness } from '../test/support/harness.js';
import { cpuMeter } from './cpu.js';
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

export interface RoundTrip {
  /** add → processed → waitUntilFinished resolved, at a steady rate. */
  latency: Latency;
  /** addBulk N → N 'completed' events seen on QueueEvents. */
  perSec: number;
  loop: LoopDelay;
  /** CPU ms of this process per job in the throughput phase. */
  nodeCpu: number;
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
 * Raw BullMQ round trip, the floor under `authorize`: add → trivial
 * processor → job.waitUntilFinished via QueueEvents, same worker
 * concurrency, job data the size of the autonomous request.
 */
export async function bullmqRoundTrip(opts: { concurrency: number; rate: number; count: number; jobs: number; warmup: number }): Promise<RoundTrip> {
  const prefix = uniqueName('csbench');
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  const queue = new Queue('raw', { connection, prefix });
  const worker = new Worker('raw', async (job) => ({ escalationId: job.id, decision: 'allow' }), { connection, prefix, concurrency: opts.concurrency });
  const events = new QueueEvents('raw', { connection, prefix });
  await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
  const fresh = () => {
    const e = autonomousEscalation();
    return { id: e.id, data: e };
  };
  try {
    await bulkToCompleted(queue, events, Array.from({ length: opts.warmup }, fresh), 'raw warm-up');
    const items = Array.from({ length: opts.jobs }, fresh);
    const cpu0 = process.cpuUsage();
    const seconds = await bulkToCompleted(queue, events, items, `${opts.jobs} raw jobs`);
    const cpu = process.cpuUsage(cpu0);
    const lats: number[] = [];
    const loop = watchLoop();
    await atRate(opts.rate, opts.count, async () => {
      const { id, data } = fresh();
      const t0 = now();
      const job = await queue.add('escalation', data, { jobId: id });
      await job.waitUntilFinished(events, 10_000);
      lats.push(now() - t0);
    });
    return { latency: latency(lats), perSec: opts.jobs / seconds, loop: loop(), nodeCpu: (cpu.user + cpu.system) / 1000 / opts.jobs };
  } finally {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}

export interface AuthorizeFigures extends RoundTrip {
  /** CPU ms per decision in the throughput phase: this process, its Postgres backends, Redis. */
  cpu: { node: number; postgres: number; redis: number };
  seconds: number;
}

/**
 * `client.authorize()` of autonomous requests against the running bot: at a
 * steady rate for latency, then addBulk N for throughput. Every answer must
 * be `allow`, and every decision recorded in Postgres with its event.
 */
export async function authorizeBench(h: Harness, opts: { rate: number; count: number; jobs: number; warmup: number }): Promise<AuthorizeFigures> {
  const events = new QueueEvents(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
  await events.waitUntilReady();
  const meter = await cpuMeter(h.sql, new URL(h.dbUrl).pathname.slice(1), h.redis);
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
  try {
    // Warm-up: the client's QueueEvents, prepared statements, the workers.
    for (let i = 0; i < 20; i++) {
      const a = await h.client.authorize(autonomousEscalation());
      if (a.decision !== 'allow') throw new Error(`autonomous authorize answered ${JSON.stringify(a)}`);
    }
    await bulkToCompleted(h.queue, events, Array.from({ length: opts.warmup }, fresh), 'autonomous warm-up');

    const lats: number[] = [];
    const ids: string[] = [];
    const loop = watchLoop();
    await atRate(opts.rate, opts.count, async () => {
      const e = autonomousEscalation();
      ids.push(e.id);
      const t0 = now();
      const a = await h.client.authorize(e);
      lats.push(now() - t0);
      if (a.decision !== 'allow' || a.code !== 'policy_allowed') throw new Error(`autonomous authorize answered ${JSON.stringify(a)}`);
    });
    const loopDelay = loop();
    await checkRecorded(ids);

    const items = Array.from({ length: opts.jobs }, fresh);
    const cpu0 = await meter.take();
    const seconds = await bulkToCompleted(h.queue, events, items, `${opts.jobs} autonomous decisions`);
    const cpu = meter.per(cpu0, await meter.take(), opts.jobs);
    await checkRecorded(items.map((x) => x.id));
    return { latency: latency(lats), perSec: opts.jobs / seconds, seconds, loop: loopDelay, cpu, nodeCpu: cpu.node };
  } finally {
    await events.close();
  }
}
