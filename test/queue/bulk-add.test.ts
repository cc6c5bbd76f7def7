import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulkAdder } from '../../src/queue/bulk-add.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../support/services.js';

let redis: Redis;
let prefix: string;
let queue: Queue;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  prefix = uniqueName('cst');
  queue = new Queue('bulk', { connection: { url: REDIS_URL }, prefix });
});
afterAll(async () => {
  await queue.close();
  await dropRedisPrefix(redis, prefix);
  redis.disconnect();
});

describe('jobs added through the bulk adder', () => {
  it('are each in Redis, with their data and delay, by the time their caller resumes', async () => {
    const adder = bulkAdder(queue);
    await Promise.all(
      Array.from({ length: 250 }, async (_, i) => {
        await adder.add('expire', { escalationId: `e-${i}` }, { jobId: `expire-${i}`, delay: 60_000 + i });
        const job = await queue.getJob(`expire-${i}`);
        expect(job?.data).toEqual({ escalationId: `e-${i}` });
        expect(job?.opts.delay).toBe(60_000 + i);
      }),
    );
    expect(await queue.getDelayedCount()).toBe(250);
  });

  it('add a job once however often its jobId is added', async () => {
    const adder = bulkAdder(queue);
    await Promise.all(Array.from({ length: 5 }, () => adder.add('expire', { escalationId: 'same' }, { jobId: 'expire-same', delay: 60_000 })));
    await adder.add('expire', { escalationId: 'same' }, { jobId: 'expire-same', delay: 60_000 });
    const delayed = await queue.getDelayed();
    expect(delayed.filter((j) => j.id === 'expire-same')).toHaveLength(1);
  });

  it('refuse only the caller whose job is invalid; the others in its batch go in', async () => {
    const adder = bulkAdder(queue);
    const results = await Promise.allSettled([
      adder.add('expire', { escalationId: 'ok-1' }, { jobId: 'expire-ok-1', delay: 60_000 }),
      // BullMQ refuses integer-like custom ids.
      adder.add('expire', { escalationId: 'bad' }, { jobId: '12345', delay: 60_000 }),
      adder.add('expire', { escalationId: 'ok-2' }, { jobId: 'expire-ok-2', delay: 60_000 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await queue.getJob('expire-ok-1')).toBeDefined();
    expect(await queue.getJob('expire-ok-2')).toBeDefined();
    expect(await queue.getJob('12345')).toBeUndefined();
  });
});
