import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOME_JOB, NOTIFY_QUEUE } from '../../src/queue/names.js';
import { HOME_REFRESH_MS, createScheduler, type Scheduler } from '../../src/queue/scheduler.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../support/services.js';

let redis: Redis;
let prefix: string;
let scheduler: Scheduler;
let notify: Queue;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  prefix = uniqueName('cst');
  scheduler = createScheduler({ url: REDIS_URL }, prefix);
  notify = new Queue(NOTIFY_QUEUE, { connection: { url: REDIS_URL }, prefix });
});
afterAll(async () => {
  await scheduler.close();
  await notify.close();
  await dropRedisPrefix(redis, prefix);
  redis.disconnect();
});

describe('App Home refreshes', () => {
  it('queue one delayed job per user however many outcomes ask for it meanwhile', async () => {
    await Promise.all(Array.from({ length: 25 }, () => scheduler.refreshHomes(['U0APPROVER1', 'U0APPROVER2'])));
    await scheduler.refreshHomes(['U0APPROVER1']);
    await scheduler.refreshHomes([]);
    const delayed = await notify.getDelayed();
    expect(delayed.map((j) => [j.name, j.data.userId]).sort()).toEqual([
      [HOME_JOB, 'U0APPROVER1'],
      [HOME_JOB, 'U0APPROVER2'],
    ]);
    expect(delayed.every((j) => j.opts.delay === HOME_REFRESH_MS)).toBe(true);
  });

  it('queue one more refresh for an outcome that arrives while that user’s refresh runs, so it is not missed', async () => {
    await notify.obliterate({ force: true });
    let release!: () => void;
    const running = new Promise<void>((r) => (release = r));
    const ran: string[] = [];
    let started!: () => void;
    const isRunning = new Promise<void>((r) => (started = r));
    const worker = new Worker(
      NOTIFY_QUEUE,
      async (job) => {
        ran.push(job.data.userId);
        if (ran.length === 1) {
          started();
          await running;
        }
      },
      { connection: { url: REDIS_URL }, prefix },
    );
    try {
      await scheduler.refreshHomes(['U0LATE']);
      // Promote the delayed job rather than wait its delay out.
      await (await notify.getDelayed())[0]!.promote();
      await isRunning;
      await Promise.all(Array.from({ length: 5 }, () => scheduler.refreshHomes(['U0LATE'])));
      release();
      await expect.poll(async () => (await notify.getDelayed()).length + (await notify.getWaitingCount()) + ran.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      const next = [...(await notify.getDelayed()), ...(await notify.getWaiting())];
      // The one kept for after the running refresh, not five.
      expect(next.length + ran.length - 1).toBe(1);
    } finally {
      await worker.close();
    }
  });
});
