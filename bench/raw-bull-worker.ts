/**
 * The raw BullMQ worker of the authorize rows' floor, run as a script
 * (`node --import tsx bench/raw-bull-worker.ts`) so that, against a bot in its
 * own process, the floor's worker is in its own process too: a trivial
 * processor answering `allow` on queue `raw` under RAW_PREFIX, RAW_CONCURRENCY
 * jobs at once. Prints `ready` once it can take jobs; SIGTERM closes it.
 */
import { Worker } from 'bullmq';
import { REDIS_URL } from '../test/support/services.js';

const prefix = process.env.RAW_PREFIX;
if (!prefix) throw new Error('RAW_PREFIX is required');
const worker = new Worker('raw', async (job) => ({ escalationId: job.id, decision: 'allow' }), {
  connection: { url: REDIS_URL, maxRetriesPerRequest: null },
  prefix,
  concurrency: Number(process.env.RAW_CONCURRENCY ?? 50),
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
