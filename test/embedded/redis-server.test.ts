import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.js';
import { ensureRedis } from '../../src/embedded/redis-server.js';
import { REDIS_URL } from '../support/services.js';

const log = pino({ level: 'silent' });
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('ensureRedis', () => {
  it('uses a reachable REDIS_URL as it is', async () => {
    const r = await ensureRedis(REDIS_URL, log);
    expect(r.url).toBe(REDIS_URL);
    expect(r.started).toBeUndefined();
  });

  it('starts redis-server from PATH on the unreachable local port, and stops it', async () => {
    const port = await freePort();
    const r = await ensureRedis(`redis://127.0.0.1:${port}`, log);
    expect(r.started?.port).toBe(port);
    const client = new Redis(r.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    expect(await client.ping()).toBe('PONG');
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    client.disconnect();
    await r.stop();
    const after = new Redis(r.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    after.on('error', () => {});
    await expect(after.connect()).rejects.toThrow();
    after.disconnect();
  });

  it('does not start one for a remote host: one line that says so', async () => {
    await expect(ensureRedis('redis://192.0.2.1:6379', log)).rejects.toThrow(ConfigError);
  }, 10_000);
});
