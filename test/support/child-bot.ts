import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import postgres from 'postgres';
import { ESCALATIONS_QUEUE } from '../../src/queue/names.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { EXAMPLE_CALLBACK_HOST, SIGNING_SECRET } from './harness.js';
import { listCallbackSink } from './callback-server.js';
import { REDIS_URL, createTestDatabase, dropRedisPrefix, uniqueName } from './services.js';

type TestDatabase = Awaited<ReturnType<typeof createTestDatabase>>;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildBot {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** The HTTP port it listens on (its start line's `port`): where signed clicks go. */
  port: number;
}

/** The `port` of the bot's start line (pino JSON), once the whole line is out. */
function startedPort(out: string): number | undefined {
  const line = out.split('\n').find((l, i, all) => i < all.length - 1 && l.includes('countersign started'));
  try {
    const port = line ? (JSON.parse(line) as { port?: unknown }).port : undefined;
    return typeof port === 'number' ? port : undefined;
  } catch {
    return undefined;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Under scripts/test-dates.sh (libfaketime preloaded), a child bot gets the
 * shim too, with its clock starting where this process's faked clock is now,
 * in the same time zone. Otherwise (its env is built from scratch) it would
 * run on the real date while this process signs Slack requests with the faked
 * one, and refuse them as skewed. Empty outside the date runs.
 */
function fakedClockEnv(): Record<string, string> {
  const preload = process.env.LD_PRELOAD;
  if (!preload?.includes('faketime') || !process.env.FAKETIME) return {};
  const d = new Date();
  const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return {
    LD_PRELOAD: preload,
    FAKETIME: `@${local}`,
    FAKETIME_DONT_FAKE_MONOTONIC: process.env.FAKETIME_DONT_FAKE_MONOTONIC ?? '1',
    ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
  };
}

/**
 * Runs the real entry point in its own process: `src/main.ts` through tsx, as
 * `npm start` does, or `entry` (a built `dist/src/main.js`, as `npm run start:prod` does).
 * `nodeArgs`: node flags before `entry` (start:prod's; some, like V8's, are refused in NODE_OPTIONS).
 */
export async function spawnBot(env: Record<string, string>, entry?: string, nodeArgs: readonly string[] = []): Promise<ChildBot> {
  const proc = spawn(process.execPath, entry ? [...nodeArgs, entry] : ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...fakedClockEnv(), ...env, LOG_LEVEL: env.LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  // Ready once it logs its start line (pino JSON), or fail with its output.
  const port = await new Promise<number>((resolve, reject) => {
    // Generous: a loaded machine (other test files, tsc) takes tens of seconds to start tsx; a bot that never starts is killed, not left running.
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`bot did not start:\n${out}`));
    }, 90_000);
    const check = () => {
      const started = startedPort(out);
      if (started !== undefined) {
        clearTimeout(timer);
        resolve(started);
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bot exited with ${code}:\n${out}`));
    });
  });
  return { proc, output: () => out, exited, port };
}

/**
 * What a crash test needs: the fake Slack, a fresh database, a queue prefix, a
 * config file, and bots started as child processes on them (killed at close).
 * A killed worker's jobs come back after WORKER_LOCK_MS (1.5 s).
 */
export interface ChildBotWorld {
  fake: FakeSlack;
  db: TestDatabase;
  sql: postgres.Sql;
  queue: Queue;
  env: Record<string, string>;
  /** A bot on this world's services; `entry` as in spawnBot. */
  bot(entry?: string): Promise<ChildBot>;
  close(): Promise<void>;
}

export async function startChildBotWorld(opts: { config: string; env?: Record<string, string>; setup?: (fake: FakeSlack) => void }): Promise<ChildBotWorld> {
  const fake = await startFakeSlack();
  opts.setup?.(fake);
  const db = await createTestDatabase();
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const prefix = uniqueName('cst');
  const dir = mkdtempSync(join(tmpdir(), 'countersign-'));
  // The loopback callback sink (callback-server.ts) and the example's callback host are listed, as the harness does.
  writeFileSync(join(dir, 'countersign.yml'), listCallbackSink(opts.config, [EXAMPLE_CALLBACK_HOST]));
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    PORT: '0',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_API_URL: fake.url,
    COUNTERSIGN_CONFIG: join(dir, 'countersign.yml'),
    COUNTERSIGN_QUEUE_PREFIX: prefix,
    WORKER_LOCK_MS: '1500',
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const queue = new Queue(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix });
  const children: ChildBot[] = [];
  return {
    fake,
    db,
    sql,
    queue,
    env,
    async bot(entry?: string) {
      const c = await spawnBot(env, entry);
      children.push(c);
      return c;
    },
    async close() {
      for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
      await queue.obliterate({ force: true }).catch(() => {});
      // The bots' internal queues, caches and counters share the prefix: drop every key of it.
      await dropRedisPrefix((await queue.getBackend().client) as unknown as Redis, prefix);
      await queue.close();
      await sql.end();
      await fake.close();
      await db.drop();
    },
  };
}
