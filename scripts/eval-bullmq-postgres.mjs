// Evaluation, not part of the bot: BullMQ 6's Postgres backend on PGlite (through
// pglite-socket) against real Postgres and Redis, 200 jobs added at 100/s.
//   npm install --no-save pg@8 @electric-sql/pglite-socket@0.2.17
//   node scripts/eval-bullmq-postgres.mjs redis|postgres|pglite
// Workarounds it needs: a caller-built pg.Pool, the migrations run explicitly,
// search_path set on each pooled connection, pglite-socket with maxConnections > 1.
// Result on the 2-core dev box (2026-11-25), add→process:
//   Redis                  p50 3 ms     p99 11 ms
//   Postgres 15            p50 7 ms     p99 45 ms
//   PGlite (pglite-socket) p50 3792 ms  p99 5000 ms  (jobs are picked up by the 5 s poll)
import { createRequire } from 'node:module';
const { withBackend, createPostgresBackend, Queue: RQueue, Worker: RWorker } = createRequire(import.meta.url)('bullmq');
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { runMigrations } = createRequire(import.meta.url)('../node_modules/bullmq/dist/cjs/postgres/migrator.js');
async function migrate(pool) { pool.on('connect', (c) => c.query('set search_path to bullmq, public').catch(() => {})); const c = await pool.connect(); const t = performance.now(); await runMigrations(c); c.release(); console.log(`  migrations ${(performance.now() - t).toFixed(0)} ms`); }
const N = Number(process.env.N ?? 200);
const pct = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))];

async function run(label, Queue, Worker, connection) {
  const name = `eval${Date.now()}`;
  const t0 = performance.now();
  const queue = new Queue(name, { connection });
  const lat = [];
  let done;
  const finished = new Promise((r) => (done = r));
  const worker = new Worker(name, async (job) => {
    lat.push(Date.now() - job.data.at);
    if (lat.length === N) done();
  }, { connection, concurrency: 10 });
  await queue.waitUntilReady(); await worker.waitUntilReady();
  const ready = performance.now() - t0;
  // paced: one job every 10 ms (100/s), like the bench's latency figure
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    await queue.add('j', { at: Date.now(), i });
    await new Promise((r) => setTimeout(r, 10));
  }
  const timeout = new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${lat.length}/${N} processed in 60 s`)), 60_000));
  try { await Promise.race([finished, timeout]); }
  catch (e) { console.log(label, 'FAILED', e.message); }
  const secs = (performance.now() - start) / 1000;
  console.log(`${label.padEnd(28)} ready ${ready.toFixed(0).padStart(5)} ms  processed ${lat.length}/${N} in ${secs.toFixed(1)} s  add→process p50 ${pct(lat, 0.5)} ms  p99 ${pct(lat, 0.99)} ms  max ${Math.max(...lat)} ms`);
  await worker.close(); await queue.close();
}

const which = process.argv[2];
if (which === 'redis') await run('Redis', RQueue, RWorker, { url: 'redis://127.0.0.1:6379' });
if (which === 'postgres') {
  const admin = new pg.Client('postgres://root@127.0.0.1:5432/postgres'); await admin.connect();
  const db = `bmq_eval_${Date.now()}`; await admin.query(`create database ${db}`);
  const pool = new pg.Pool({ connectionString: `postgres://root@127.0.0.1:5432/${db}`, max: 10 });
  await migrate(pool);
  const { Queue, Worker } = withBackend(createPostgresBackend);
  await run('Postgres 15 (pg.Pool)', Queue, Worker, pool);
  await pool.end(); await admin.query(`drop database ${db} with (force)`); await admin.end();
}
if (which === 'pglite') {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, port: 55432, host: '127.0.0.1', maxConnections: Number(process.env.CONNS ?? 10) });
  await server.start();
  const pool = new pg.Pool({ host: '127.0.0.1', port: 55432, user: 'postgres', database: 'postgres', max: Number(process.env.POOL ?? 4) });
  await migrate(pool);
  const { Queue, Worker } = withBackend(createPostgresBackend);
  await run('PGlite (pglite-socket)', Queue, Worker, pool);
  await pool.end(); await server.stop(); await db.close();
}
process.exit(0);
