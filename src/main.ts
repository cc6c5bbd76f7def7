import { createServer, type Server } from 'node:http';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createLogger } from './config/logger.js';
import { redactorOf, type AuditConfig } from './domain/audit-config.js';
import { ConfigError, loadEnv, slackMode, type Env } from './config/env.js';
import { loadConfigFile, resolveConfigPath, type LoadedConfig } from './config/file.js';
import { openDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import type { FlowPorts, Logger } from './flow/ports.js';
import { httpRoutes } from './http/routes.js';
import { authorizeRequest } from './flow/authorize.js';
import { createDecisionWaiter } from './queue/decision-waiter.js';
import { createDecisionStore } from './queue/decision-store.js';
import { createPacer } from './queue/pacer.js';
import { createBudgetStore } from './queue/budget-store.js';
import { createAgentFlags } from './queue/agent-flags.js';
import { createScheduler } from './queue/scheduler.js';
import { createGovernanceQueue, startGovernanceWorker } from './queue/governance.js';
import { startWorkers } from './queue/workers.js';
import { startPolicyWorkers } from './queue/policy-workers.js';
import { recordEvent } from './db/queries/events.js';
import { createSlackApp } from './slack/app.js';
import { registerListeners } from './slack/listeners/index.js';
import { createSlackPort, createWebClient } from './slack/web-port.js';
import { createSlackCache } from './queue/slack-cache.js';
import { ensureRedis } from './embedded/redis-server.js';

export interface Running {
  port: number;
  /** The sandbox page, when running without Slack credentials. */
  sandboxUrl?: string;
  stop(): Promise<void>;
}

/**
 * With no Slack credentials, run against the local Slack stand-in (the same
 * one the tests use) so the whole loop works on a fresh machine. The bot's
 * code paths are the same: only its API URL and secrets differ.
 */
async function sandboxSlack(env: Env, log: Logger) {
  const { startFakeSlack } = await import('./sandbox/slack-api.js');
  const port = env.PORT === 0 ? 0 : env.PORT + 1;
  const signingSecret = randomBytes(16).toString('hex');
  let botPort: number | undefined;
  // The page's clicks go to the bot's /slack/events, signed with its secret, as Slack's would.
  const bot = { signingSecret, url: () => (botPort ? `http://127.0.0.1:${botPort}/slack/events` : undefined) };
  const fake = await startFakeSlack({ port, sandbox: bot });
  log.warn({ slackApiUrl: fake.url, page: fake.pageUrl }, `no Slack credentials: running against the local Slack sandbox; open ${fake.pageUrl}`);
  return {
    env: { ...env, SLACK_API_URL: fake.url, SLACK_BOT_TOKEN: 'xoxb-sandbox', SLACK_SIGNING_SECRET: signingSecret },
    pageUrl: fake.pageUrl,
    listening: (p: number) => void (botPort = p),
    stop: () => fake.close(),
  };
}

/** Wires every adapter around the flow. The only file that knows them all. */
export async function start(givenEnv: Env, loaded?: LoadedConfig): Promise<Running> {
  // Logs are masked like everything else; the config's own patterns apply once it is loaded.
  const logRedaction: { audit?: AuditConfig } = {};
  const log = createLogger({ level: givenEnv.LOG_LEVEL, base: { service: 'countersign', role: givenEnv.COUNTERSIGN_ROLE }, redactor: () => redactorOf(logRedaction.audit) });
  const sandbox = slackMode(givenEnv).kind === 'none' ? await sandboxSlack(givenEnv, log) : undefined;
  const localRedis = await ensureRedis((sandbox?.env ?? givenEnv).REDIS_URL, log);
  const env = { ...(sandbox?.env ?? givenEnv), REDIS_URL: localRedis.url };
  const mode = slackMode(env);
  if (mode.kind === 'none') throw new ConfigError('SLACK_BOT_TOKEN: Required');
  const configPath = resolveConfigPath(env.COUNTERSIGN_CONFIG, (path) => log.warn({ path }, 'no ./countersign.yml: using the example config'));
  let config = loaded ?? (await loadConfigFile(configPath));
  logRedaction.audit = config.config.audit;
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.COUNTERSIGN_DATA_DIR });
  // Migrations run as the owner (MIGRATE_DATABASE_URL) when the bot runs as the restricted app role.
  if (env.MIGRATE_ON_START) await runMigrations(database, env.DATABASE_URL && (env.MIGRATE_DATABASE_URL ?? env.DATABASE_URL));

  // One command connection for the app; BullMQ makes its own blocking ones.
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: false });
  const connection = { url: env.REDIS_URL, maxRetriesPerRequest: null } as const;
  const prefix = env.COUNTERSIGN_QUEUE_PREFIX;
  const scheduler = createScheduler(connection, prefix);
  const governance = createGovernanceQueue(connection, prefix);
  const client = createWebClient({ token: mode.botToken, slackApiUrl: env.SLACK_API_URL });
  const ports: FlowPorts = {
    db: database.db,
    slack: createSlackPort(client, Date.now, {
      cache: createSlackCache(redis, prefix),
      ttl: () => ({ presenceMs: config.config.slack.presenceCacheSeconds * 1000, dndMs: config.config.slack.dndCacheSeconds * 1000 }),
    }),
    pacer: createPacer(redis, () => ({
      perSecond: config.config.slack.postsPerSecondPerChannel,
      burst: config.config.slack.postBurst,
      prefix,
    })),
    scheduler,
    decisions: createDecisionStore(redis, prefix),
    config: { current: () => config },
    budgets: createBudgetStore(redis, prefix),
    flags: createAgentFlags(redis, prefix),
    governance,
    log,
    now: () => new Date(),
  };

  const runWeb = env.COUNTERSIGN_ROLE !== 'worker';
  const runWorkers = env.COUNTERSIGN_ROLE !== 'web';
  // HTTP long-polls share one subscriber connection, opened on the first wait.
  const waiter = createDecisionWaiter(env.REDIS_URL, prefix);
  const routes = httpRoutes({
    db: database.db,
    authorize: (data) => authorizeRequest(ports, data),
    waiter,
    apiTokens: env.API_TOKENS,
    redactor: () => redactorOf(config.config.audit),
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
  const policyWorkers = runWorkers
    ? await startPolicyWorkers(ports, { connection, prefix, concurrency: env.WORKER_CONCURRENCY, lockDurationMs: env.WORKER_LOCK_MS })
    : undefined;
  // Batch review and governance report jobs; schedulers follow the config (weekly samples, monthly report).
  const governanceWorker = runWorkers ? startGovernanceWorker(ports, { connection, prefix, lockDurationMs: env.WORKER_LOCK_MS }) : undefined;
  const syncSchedules = async () => {
    if (!runWorkers) return;
    try {
      const r = await governance.sync(config.config);
      if (r.removed.length) log.info({ removed: r.removed }, 'governance schedules removed');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'cannot sync the governance schedules');
    }
  };
  await syncSchedules();
  if (runWorkers && !env.CALLBACK_SIGNING_SECRET) log.warn({}, 'CALLBACK_SIGNING_SECRET is not set: agent callbacks will not be sent');

  // Policy reloads without a restart, on SIGHUP or when the file changes, but
  // only when the new file validates; otherwise the old one stays and an alert goes out.
  const reload = async () => {
    try {
      const next = await loadConfigFile(configPath);
      if (next.version === config.version) return;
      const previous = config.version;
      config = next;
      logRedaction.audit = config.config.audit;
      log.info({ version: config.version, previous }, 'config reloaded');
      await syncSchedules();
      await recordEvent(database.db, { type: 'config_reloaded', actor: 'system', data: { version: config.version, previous } });
    } catch (err) {
      const error = (err as Error).message;
      log.error({ err: error }, 'config reload refused; keeping the previous config');
      await recordEvent(database.db, { type: 'config_reload_failed', actor: 'system', data: { error, kept: config.version } }).catch(() => {});
      await scheduler.enqueueAlert({ kind: 'config_invalid', error, keptVersion: config.version }, `config:${error}`).catch(() => {});
    }
  };
  const onHup = () => void reload();
  let watcher: FSWatcher | undefined;
  if (!loaded) {
    process.on('SIGHUP', onHup);
    // Editors replace files (rename), so watch the directory for this name.
    watcher = watch(dirname(configPath), (_event, name) => {
      if (name === basename(configPath)) void reload();
    });
    watcher.on('error', () => watcher?.close());
  }
  log.info({ port, role: env.COUNTERSIGN_ROLE, slack: mode.kind, db: database.kind }, 'countersign started');
  sandbox?.listening(port);
  const samples = new AbortController();
  if (sandbox && runWorkers && env.SANDBOX_SAMPLES) {
    const { runSampleAgents } = await import('./sandbox/samples.js');
    void runSampleAgents({ redisUrl: env.REDIS_URL, prefix, signal: samples.signal, log: (line) => log.info({ sample: line }, 'sample agent') })
      .catch((err: Error) => log.warn({ err: err.message }, 'sample agents stopped'));
  }

  let stopping: Promise<void> | undefined;
  return {
    port,
    sandboxUrl: sandbox?.pageUrl,
    stop() {
      stopping ??= (async () => {
        samples.abort();
        process.off('SIGHUP', onHup);
        watcher?.close();
        // Long-polls answer at once (as they stand) instead of holding the server's close for up to 25 s.
        await waiter.close();
        await stopWeb().catch(() => {});
        // Finishes in-flight jobs before closing.
        await workers?.close();
        await policyWorkers?.close();
        await governanceWorker?.close();
        await governance.close();
        await scheduler.close();
        await redis.quit().catch(() => {});
        await database.close();
        await sandbox?.stop();
        await localRedis.stop();
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
