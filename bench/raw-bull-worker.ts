/**
 * The raw BullMQ worker of the authorize rows' floor: a trivial processor
 * answering `allow` on queue `raw`. authorize.ts runs it in the bench's own
 * process beside an in-process bot; run as a script (`node --import tsx
 * bench/raw-bull-worker.ts`, with RAW_PREFIX and RAW_CONCURRENCY) it prints
 * `ready` once it can take jobs and closes on SIGTERM, so that a bot in its
 * own process is measured beside a worker in its own process.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import { REDIS_URL } from '../test/support/services.js';

export function rawWorker(prefix: string, concurrency: number): Worker {
  return new Worker('raw', async (job) => ({ escalationId: job.id, decision: 'allow' }), {
    connection: { url: REDIS_URL, maxRetriesPerRequest: null },
    prefix,
    concurrency,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const prefix = process.env.RAW_PREFIX;
  if (!prefix) throw new Error('RAW_PREFIX is required');
  const worker = rawWorker(prefix, Number(process.env.RAW_CONCURRENCY ?? 50));
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}
