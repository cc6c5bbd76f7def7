/**
 * The authorize rows with the bot as deployed: its own process (built JS,
 * NODE_ENV=production, info-level logs, start:prod's node flags), so that it
 * shares no event loop (and no garbage collector) with the driver. The HTTP
 * rows (authorize-http.ts) put the floor's bare node:http server in a process
 * of its own too; the BullMQ rows (authorize.ts) drive the bot with the
 * TypeScript client, as an agent would. Its own database, fake Slack and Redis
 * prefix, removed at the end. Used by `npm run bench` (both) and
 * `npm run bench:authorize-deployed` (HTTP).
 */
import { Redis } from 'ioredis';
import { CountersignClient } from '../src/client/index.js';
import { startChildBotWorld, spawnBot } from '../test/support/child-bot.js';
import type { FakeSlack } from '../test/support/fake-slack.js';
import { API_TOKEN } from '../test/support/harness.js';
import { REDIS_URL } from '../test/support/services.js';
import { authorizeVsRaw, type AuthorizeTarget } from './authorize.js';
import { authorizeHttpBench, type AuthorizeHttpFigures } from './authorize-http.js';
import { benchConfigText } from './bot.js';
import { procCpuMs } from './cpu.js';
import { deployedArgs, deployedEnv, spawnScript } from './process.js';

/** bench/bare-server.ts in a process of its own. */
async function startBareProcess() {
  const { proc, line } = await spawnScript('./bare-server.ts');
  return { proc, url: `http://127.0.0.1:${Number(line)}/api/authorize` };
}

/**
 * What a bench gets of the deployed bot: a target for the BullMQ rows, one for
 * the HTTP rows (signed Slack requests go to `${http.baseUrl}/slack/events`),
 * and the fake Slack it posts to.
 */
export interface DeployedAuthorize {
  bull: AuthorizeTarget;
  http: Parameters<typeof authorizeHttpBench>[0];
  fake: FakeSlack;
}

export interface DeployedOptions {
  /** Variables for the bot only (a bench's `--bot-env=…`). */
  botEnv?: Record<string, string>;
  /** Its config file's text; default the bench config (bot.ts). */
  config?: string;
}

/**
 * Runs `fn` against one deployed bot. `entry`: the built bot (process.ts's
 * builtEntry). `nodeOptions`: node flags added after start:prod's (a bench's
 * `--node-options=…`, `--cpu-prof`).
 */
export async function withDeployedBot<T>(entry: string, nodeOptions: string, fn: (bot: DeployedAuthorize) => Promise<T>, opts: DeployedOptions = {}): Promise<T> {
  const { botEnv = {}, config = benchConfigText() } = opts;
  const world = await startChildBotWorld({ config, env: { API_TOKENS: API_TOKEN, WORKER_LOCK_MS: '30000' } });
  const prefix = String(world.env.COUNTERSIGN_QUEUE_PREFIX);
  const redis = new Redis(REDIS_URL);
  const client = new CountersignClient({ redisUrl: REDIS_URL, prefix });
  try {
    const bot = await spawnBot({ ...world.env, ...deployedEnv(nodeOptions), ...botEnv }, entry, deployedArgs());
    try {
      const bare = await startBareProcess();
      try {
        return await fn({
          bull: { prefix, sql: world.sql, dbUrl: world.db.url, redis, client, queue: world.queue, pid: bot.proc.pid! },
          http: {
            baseUrl: `http://127.0.0.1:${bot.port}`,
            dbUrl: world.db.url,
            sql: world.sql,
            bareUrl: bare.url,
            cpu: { authorize: () => procCpuMs(bot.proc.pid!), bareHttp: () => procCpuMs(bare.proc.pid!) },
          },
          fake: world.fake,
        });
      } finally {
        bare.proc.kill('SIGTERM');
      }
    } finally {
      // SIGTERM lets the bot finish and, with --cpu-prof, write its profile.
      bot.proc.kill('SIGTERM');
      await bot.exited;
    }
  } finally {
    await client.close();
    redis.disconnect();
    await world.close();
  }
}

/** The HTTP rows alone, against a deployed bot. */
export function authorizeHttpDeployed(
  entry: string,
  opts: Parameters<typeof authorizeHttpBench>[1] & { nodeOptions?: string; botEnv?: Record<string, string> },
): Promise<AuthorizeHttpFigures> {
  const { nodeOptions, botEnv, ...run } = opts;
  return withDeployedBot(entry, nodeOptions ?? '', (bot) => authorizeHttpBench(bot.http, run), { botEnv });
}

/** The BullMQ rows, then the HTTP rows, against one deployed bot (`npm run bench`). */
export function authorizeDeployed(
  entry: string,
  opts: { bull: Parameters<typeof authorizeVsRaw>[1]; http: Parameters<typeof authorizeHttpBench>[1] },
  log: (m: string) => void,
) {
  return withDeployedBot(entry, '', async (bot) => {
    log(`autonomous authorize() and raw BullMQ round trip, ${opts.bull.count} each at ${opts.bull.rate}/s in alternate 1 s blocks, then ${opts.bull.jobs} addBulk each`);
    const bull = await authorizeVsRaw(bot.bull, opts.bull);
    log(`autonomous POST /api/authorize, bare HTTP (its own process) and raw INSERT, ${opts.http.count} each at ${opts.http.rate}/s in alternate 1 s blocks, then ${opts.http.jobs} each with ${opts.http.concurrency} in flight`);
    const http = await authorizeHttpBench(bot.http, opts.http);
    return { bull, http };
  });
}
