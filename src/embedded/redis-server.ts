/**
 * Redis for a fresh machine: if REDIS_URL (a local address) cannot be
 * reached, start `redis-server` from PATH on 127.0.0.1 with no persistence,
 * on the URL's port if free or else on a port of its own, and stop it on exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { ConfigError } from '../config/env.js';
import type { Logger } from '../flow/ports.js';

export interface RedisHandle {
  /** The URL to use: the given one, or the local server's. */
  url: string;
  /** Set when this process started the server. */
  started?: { pid: number | undefined; port: number };
  stop(): Promise<void>;
}

const HOW = 'install one (apt-get install redis-server, brew install redis) or run: docker run -d -p 6379:6379 redis:7';

async function ping(url: string, timeoutMs = 3000): Promise<Error | undefined> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  probe.on('error', () => {}); // the failure is the answer
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    probe.disconnect();
  }
}

function portFree(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => resolve(got));
    });
  });
}

export async function ensureRedis(url: string, log: Logger): Promise<RedisHandle> {
  const error = await ping(url);
  if (!error) return { url, stop: async () => {} };
  const parsed = new URL(url);
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  const cannot = `REDIS_URL: cannot reach ${url} (${error.message})`;
  if (!local) throw new ConfigError(cannot);
  const port = (await portFree(Number(parsed.port || 6379))) ?? (await portFree(0));
  if (!port) throw new ConfigError(`${cannot}; no free port for a local redis-server`);
  const child: ChildProcess = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
  if (spawned) throw new ConfigError(`${cannot}, and no redis-server on PATH: ${HOW}`);
  const kill = () => void child.kill('SIGTERM');
  process.once('exit', kill);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  const localUrl = parsed.toString();
  for (let i = 0; i < 50 && (await ping(localUrl, 500)); i++) await new Promise((r) => setTimeout(r, 100));
  if (await ping(localUrl, 1000)) {
    kill();
    throw new ConfigError(`${cannot}; a local redis-server on port ${port} did not start: ${HOW}`);
  }
  log.warn({ redisUrl: localUrl, pid: child.pid }, 'REDIS_URL unreachable: started a local redis-server (no persistence); it stops with Countersign');
  return {
    url: localUrl,
    started: { pid: child.pid, port },
    stop: () =>
      new Promise<void>((resolve) => {
        process.off('exit', kill);
        // Already gone, by exit or by a signal (signalCode is set then, exitCode stays null).
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
