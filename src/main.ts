import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { ConfigError, loadEnv, slackMode, type Env } from './config/env.js';
import { loadConfigFile, type LoadedConfig } from './config/file.js';
import { openDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import type { FlowPorts } from './flow/ports.js';
import { httpRoutes } from './http/routes.js';
import { createDecisionStore } from './queue/decision-store.js';
import { createPacer } from './queue/pacer.js';
import { createScheduler } from './queue/scheduler.js';
import { startWorkers } from './queue/workers.js';
import { createSlackApp } from './slack/app.js';
import { registerListeners } from './slack/listeners/index.js';
import { createSlackPort, createWebClient } from './slack/web-port.js';

export interface Running {
  port: number;
  stop(): Promise<void>;
}

/** Wires every adapter around the flow. The only file that knows them all. */
export async function start(env: Env, loaded?: LoadedConfig): Promise<Running> {
  const log = pino({ level: env.LOG_LEVEL, base: { service: 'countersign', role: env.COUNTERSIGN_ROLE } });
  const mode = slackMode(env);
  if (mode.kind === 'none') {
    throw new ConfigError('SLACK_BOT_TOKEN: Required, with SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)');
  }
  let config = loaded ?? (await loadConfigFile(env.COUNTERSIGN_CONFIG));
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.COUNTERSIGN_DATA_DIR });
  if (env.MIGRATE_ON_START) await runMigrations(database, env.DATABASE_URL);

  // One command connection for the app; BullMQ makes its own blocking ones.
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: false });
  const connection = { url: env.REDIS_URL, maxRetriesPerRequest: null } as const;
  const prefix = env.COUNTERSIGN_QUEUE_PREFIX;
  const scheduler = createScheduler(connection, prefix);
  const client = createWebClient({ token: mode.botToken, slackApiUrl: env.SLACK_API_URL });
  const ports: FlowPorts = {
    db: database.db,
    slack: createSlackPort(client),
    pacer: createPacer(redis, () => ({
      perSecond: config.config.slack.postsPerSecondPerChannel,
      burst: config.config.slack.postBurst,
      prefix,
    })),
    scheduler,
    decisions: createDecisionStore(redis, prefix),
    config: { current: () => config },
    log,
    now: () => new Date(),
  };

  const runWeb = env.COUNTERSIGN_ROLE !== 'worker';
  const runWorkers = env.COUNTERSIGN_ROLE !== 'web';
  const routes = httpRoutes({
    db: database.db,
    apiTokens: env.API_TOKENS,
    health: { postgres: () => database.ping(), redis: async () => void (await redis.ping()) },
  });

  let stopWeb = async () => {};
  let port = env.PORT;
  if (runWeb) {
    const { app } = createSlackApp({ mode, slackApiUrl: env.SLACK_API_URL, port: env.PORT, routes, log });
    registerListeners(app, ports);
    const server = (await app.start(env.PORT)) as Server | undefined;
    const address = server?.address();
    if (address && typeof address === 'object') port = address.port;
    stopWeb = () => app.stop().then(() => undefined);
  } else {
    // Worker-only replicas still answer /healthz for their orchestrator.
    const server = createServer((req, res) => {
      const route = routes.find((r) => r.path === '/healthz');
      if (req.url === '/healthz' && route) return void route.handler(req as never, res);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(env.PORT, resolve));
    const address = server.address();
    if (address && typeof address === 'object') port = address.port;
    stopWeb = () => new Promise((resolve) => server.close(() => resolve()));
  }
  const workers = runWorkers
    ? startWorkers(ports, {
        connection,
        prefix,
        concurrency: env.WORKER_CONCURRENCY,
        lockDurationMs: env.WORKER_LOCK_MS,
        callbackSecret: env.CALLBACK_SIGNING_SECRET,
      })
    : undefined;
  if (runWorkers && !env.CALLBACK_SIGNING_SECRET) log.warn({}, 'CALLBACK_SIGNING_SECRET is not set: agent callbacks will not be sent');

  const reload = async () => {
    try {
      config = await loadConfigFile(env.COUNTERSIGN_CONFIG);
      log.info({ version: config.version }, 'config reloaded');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'config reload refused; keeping the previous config');
    }
  };
  if (!loaded) process.on('SIGHUP', reload);
  log.info({ port, role: env.COUNTERSIGN_ROLE, slack: mode.kind, db: database.kind }, 'countersign started');

  let stopping: Promise<void> | undefined;
  return {
    port,
    stop() {
      stopping ??= (async () => {
        process.off('SIGHUP', reload);
        await stopWeb().catch(() => {});
        // Finishes in-flight jobs before closing.
        await workers?.close();
        await scheduler.close();
        await redis.quit().catch(() => {});
        await database.close();
        log.info({}, 'countersign stopped');
      })();
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  let running: Running;
  try {
    running = await start(loadEnv(process.env));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`countersign: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const shutdown = (signal: string) => {
    process.stderr.write(`countersign: ${signal}, finishing in-flight work\n`);
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
