import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignClient } from '../../src/client/index.js';
import { ESCALATIONS_QUEUE } from '../../src/queue/names.js';
import { makeEscalation } from '../support/harness.js';
import { REDIS_URL, dropRedisPrefix, eventually, uniqueName } from '../support/services.js';

/**
 * A TCP proxy in front of Redis that holds back the first XREAD (BullMQ's
 * event reader asking for the queue's events) until `release()`, and tells
 * when Redis has answered the `n`th command naming `watch` (the job's id:
 * its add, then waitUntilFinished's check whether it already finished).
 */
function holdingProxy(watch: string) {
  const target = new URL(REDIS_URL);
  let holding = true;
  const held: Array<() => void> = [];
  let named = 0;
  let answered = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let xreadHeld!: () => void;
  const xreadSeen = new Promise<void>((r) => (xreadHeld = r));
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port || 6379) });
    sockets.add(client).add(upstream);
    let owed = 0;
    client.on('data', (chunk) => {
      const text = chunk.toString('latin1');
      if (text.includes(watch)) {
        named += 1;
        owed += 1;
      }
      if (holding && /XREAD/i.test(text)) {
        xreadHeld();
        held.push(() => upstream.write(chunk));
      } else upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      client.write(chunk);
      if (owed > 0) {
        answered += owed;
        owed = 0;
        for (const w of waiters.filter((x) => answered >= x.n)) w.resolve();
      }
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  return {
    async start(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `redis://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    xreadHeld: () => xreadSeen,
    /** Resolves once Redis answered the `n`th command naming `watch`. */
    answeredCommand: (n: number) => new Promise<void>((resolve) => (answered >= n ? resolve() : waiters.push({ n, resolve }))),
    named: () => named,
    release() {
      holding = false;
      for (const send of held.splice(0)) send();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('the client’s first authorize()', () => {
  const prefix = uniqueName('cst_first');
  const answer = { decision: 'allow', status: 'allowed' };
  let queue: Queue;
  let redis: Redis;
  beforeAll(() => {
    queue = new Queue(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix });
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await queue.close();
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
  });

  it('gets an answer given after it checked the job and before its event reader first listened', async () => {
    const e = makeEscalation();
    const proxy = holdingProxy(e.id);
    const client = new CountersignClient({ redisUrl: await proxy.start(), prefix });
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const worker = new Worker(ESCALATIONS_QUEUE, async () => (await gate, answer), { connection: { url: REDIS_URL }, prefix });
    try {
      const asked = client.authorize(e, { timeoutMs: 5000 });
      // The job is in, the client has checked that it is not finished, and its reader has not listened yet.
      await proxy.xreadHeld();
      await proxy.answeredCommand(2);
      expect(await queue.getJobState(e.id)).not.toBe('completed');
      // Now the answer: the job completes while the reader is still held back.
      finish();
      await eventually(async () => ((await queue.getJobState(e.id)) === 'completed' ? true : undefined), 'the job completed');
      proxy.release();
      expect(await asked).toEqual(answer);
    } finally {
      finish();
      await worker.close();
      await client.close();
      await proxy.close();
    }
  });
});
