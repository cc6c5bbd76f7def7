import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPacer } from '../../src/queue/pacer.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../support/services.js';

let redis: Redis;
let prefix: string;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
  prefix = uniqueName('cst');
});
afterAll(async () => {
  await dropRedisPrefix(redis, prefix);
  redis.disconnect();
});

/** One post a second, bursts of 3: the first 3 go, the rest wait for the next slot (at most 1 s). */
const pacer = () => createPacer(redis, () => ({ perSecond: 1, burst: 3, prefix }));

describe('the Slack pacer', () => {
  it('lets exactly the burst through when many cards for one channel reserve at once, and tells the rest how long to wait', async () => {
    const waits = await Promise.all(Array.from({ length: 10 }, () => pacer().reserve('chat.postMessage:C0BURST001')));
    expect(waits.filter((w) => w === 0)).toHaveLength(3);
    for (const w of waits.filter((x) => x > 0)) expect(w).toBeLessThanOrEqual(1000);
  });

  it('answers concurrent reserves as the same reserves made one after another would', async () => {
    const p = pacer();
    const together = await Promise.all(Array.from({ length: 10 }, () => p.reserve('chat.postMessage:C0TOGETHER')));
    const oneByOne: number[] = [];
    for (let i = 0; i < 10; i++) oneByOne.push(await p.reserve('chat.postMessage:C0ONEBYONE'));
    const shape = (ws: number[]) => ws.map((w) => (w === 0 ? 'go' : 'wait'));
    expect(shape(together)).toEqual(shape(oneByOne));
    expect(shape(together)).toEqual(['go', 'go', 'go', ...Array(7).fill('wait')]);
  });

  it('paces each channel on its own', async () => {
    const p = pacer();
    const [a, b] = await Promise.all([
      Promise.all(Array.from({ length: 4 }, () => p.reserve('chat.postMessage:C0CHANNELA'))),
      Promise.all(Array.from({ length: 4 }, () => p.reserve('chat.postMessage:C0CHANNELB'))),
    ]);
    expect(a.filter((w) => w === 0)).toHaveLength(3);
    expect(b.filter((w) => w === 0)).toHaveLength(3);
  });

  it('holds every caller back after a 429 for at least its Retry-After', async () => {
    const p = pacer();
    await p.block('chat.postMessage:C0BLOCKED1', 5000);
    const waits = await Promise.all(Array.from({ length: 3 }, () => p.reserve('chat.postMessage:C0BLOCKED1')));
    for (const w of waits) expect(w).toBeGreaterThan(4000);
  });
});
