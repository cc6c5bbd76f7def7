import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { signSlackRequest } from '../test/support/slack-signing.js';
import { REDIS_URL, uniqueName, dropRedisPrefix } from '../test/support/services.js';
import { post } from './http-client.js';
import { atRate, latency, now, until, withConcurrency, type Latency } from './stats.js';

export interface BullBaseline {
  jobsPerSec: number;
  latency: Latency;
}

/** Raw BullMQ: add → trivial processor, at the bot's worker concurrency. */
export async function bullmqBaseline(opts: { concurrency: number; jobs: number; warmup: number; rate: number; latencyCount: number }): Promise<BullBaseline> {
  const prefix = uniqueName('csbench');
  const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
  const queue = new Queue('raw', { connection, prefix });
  const started = new Map<string, number>();
  const seen = new Map<string, number>();
  let completed = 0;
  const worker = new Worker(
    'raw',
    async (job) => {
      seen.set(job.id!, now());
      return 1;
    },
    { connection, prefix, concurrency: opts.concurrency },
  );
  worker.on('completed', () => void completed++);
  await worker.waitUntilReady();
  const data = { escalationId: randomUUID(), pad: 'x'.repeat(2000) }; // about the size of an escalation

  try {
    const bulk = async (n: number) => {
      const before = completed;
      const jobs = Array.from({ length: n }, () => ({ name: 'raw', data }));
      const t0 = now();
      await queue.addBulk(jobs);
      await until(() => completed - before >= n, `${n} raw jobs`, 60_000, 2);
      return n / ((now() - t0) / 1000);
    };
    await bulk(opts.warmup);
    const jobsPerSec = await bulk(opts.jobs);

    await atRate(opts.rate, opts.latencyCount, async (i) => {
      const id = `lat-${i}`;
      started.set(id, now());
      await queue.add('raw', data, { jobId: id });
    });
    await until(() => [...started.keys()].every((id) => seen.has(id)), 'raw latency jobs', 30_000);
    const lats = [...started].map(([id, t]) => seen.get(id)! - t);
    return { jobsPerSec, latency: latency(lats) };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    const redis = new Redis(REDIS_URL);
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
  }
}

export interface PgBaseline {
  singleRowsPerSec: number;
  batchedRowsPerSec: number;
  txPerSec: number;
}

/**
 * Raw Postgres via postgres.js with the bot's pool size: auto-commit single-row
 * INSERTs, 500-row INSERTs, and the bot's transaction shape (BEGIN, INSERT, INSERT, COMMIT).
 */
export async function postgresBaseline(opts: { url: string; pool: number; concurrency: number; rows: number; payload: unknown }): Promise<PgBaseline> {
  const sql = postgres(opts.url, { max: opts.pool, onnotice: () => {} });
  const table = uniqueName('bench_scratch');
  try {
    await sql.unsafe(`create table ${table} (id uuid primary key, payload jsonb not null, created_at timestamptz not null default now())`);
    await sql.unsafe(`create table ${table}_ev (id bigint generated always as identity primary key, ref uuid, payload jsonb not null)`);
    const payload = sql.json(opts.payload as postgres.JSONValue);
    const t = sql(table);
    const tev = sql(`${table}_ev`);

    // Warm the pool.
    await withConcurrency(opts.concurrency, opts.pool * 2, async () => void (await sql`select 1`));

    let t0 = now();
    await withConcurrency(opts.concurrency, opts.rows, async () => {
      await sql`insert into ${t} (id, payload) values (${randomUUID()}, ${payload})`;
    });
    const singleRowsPerSec = opts.rows / ((now() - t0) / 1000);

    const batch = 500;
    const batches = Math.max(4, Math.ceil((opts.rows * 4) / batch));
    t0 = now();
    await withConcurrency(Math.min(opts.pool, 8), batches, async () => {
      const rows = Array.from({ length: batch }, () => ({ id: randomUUID(), payload: opts.payload as postgres.JSONValue }));
      await sql`insert into ${t} ${sql(rows, 'id', 'payload')}`;
    });
    const batchedRowsPerSec = (batches * batch) / ((now() - t0) / 1000);

    t0 = now();
    await withConcurrency(opts.concurrency, opts.rows, async () => {
      const id = randomUUID();
      await sql.begin(async (tx) => {
        await tx`insert into ${t} (id, payload) values (${id}, ${payload})`;
        await tx`insert into ${tev} (ref, payload) values (${id}, ${sql.json({ type: 'received' })})`;
      });
    });
    const txPerSec = opts.rows / ((now() - t0) / 1000);
    return { singleRowsPerSec, batchedRowsPerSec, txPerSec };
  } finally {
    await sql.unsafe(`drop table if exists ${table}, ${table}_ev`).catch(() => {});
    await sql.end();
  }
}

/** A trivial HTTP server answering 200 at once, hit the way the clicks are. */
export async function httpBaseline(opts: { requests: number; concurrency: number; body: string }): Promise<Latency> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(''));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  const lats: number[] = [];
  try {
    await withConcurrency(opts.concurrency, opts.requests, async () => {
      const t0 = now();
      await post(url, opts.body, { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest('baseline', opts.body) });
      lats.push(now() - t0);
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
  return latency(lats.slice(Math.min(20, lats.length / 10)));
}
