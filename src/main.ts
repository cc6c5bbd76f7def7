import { createServer, type Server } from 'node:http';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import type { DestinationStream } from 'pino';
import { createLogger } from './config/logger.js';
import { createLogScope, idsResolver } from './config/log-scope.js';
import { redactorOf, type AuditConfig } from './domain/audit-config.js';
import { ConfigError, loadEnv, slackMode, type Env } from './config/env.js';
import { loadConfigFile, resolveConfigPath, type LoadedConfig } from './config/file.js';
import { openDatabase } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import type { FlowPorts, Logger } from './flow/ports.js';
import { httpRoutes, serveProbes } from './http/routes.js';
import { createMetrics } from './http/metrics.js';
import { escalationCounts, unsealedAgeSeconds } from './db/queries/metrics.js';
import { executionIdOf } from './db/queries/escalations.js';
import * as queueNames from './queue/names.js';
import { jobScope } from './queue/job-scope.js';
import { scopeSlackRequests, type InFlight } from './slack/click-scope.js';
import { bounded, logConnectionErrors } from './shutdown.js';
import { authorizeRequest } from './flow/authorize.js';
import { createDecisionWaiter } from './queue/decision-waiter.js';
import { createDecisionStore } from './queue/decision-store.js';
import { createPacer } from './queue/pacer.js';
import { createBudgetStore } from './queue/budget-store.js';
import { createAgentFlags } from './queue/agent-flags.js';
import { createHomePages } from './queue/home-pages.js';
import { createScheduler } from './queue/scheduler.js';
import { createGovernanceQueue, startGovernanceWorker } from './queue/governance.js';
import { startWorkers } from './queue/workers.js';
import { startPolicyWorkers } from './queue/policy-workers.js';
import { watchRedisReset } from './queue/redis-reset.js';
import { DECISION_TTL_SEC } from './queue/names.js';
import { rebuildFromPostgres } from './flow/rebuild.js';
import { sweep } from './flow/sweep.js';
import { recordEvent } from './db/queries/events.js';
import { createSlackApp } from './slack/app.js';
import { registerListeners } from './slack/listeners/index.js';
import { recordLateClick } from './slack/listeners/decision-ack.js';
import { leaseFor } from './db/queries/leases.js';
import { createSlackPort, createWebClient } from './slack/web-port.js';
import { createSlackCache } from './queue/slack-cache.js';
import { ensureRedis } from './embedded/redis-server.js';

/** At start, a decision not handed back this long after it was made is taken for one a stopped process left (ms). */
const START_NOTIFY_GRACE_MS = 5_000;

export interface Running {
  port: number;
  /** The sandbox page, when running without Slack credentials. */
  sandboxUrl?: string;
  /** /metrics without a token, when METRICS_PORT is set. */
  metricsPort?: number;
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
export async function start(givenEnv: Env, loaded?: LoadedConfig, opts: { logDestination?: DestinationStream } = {}): Promise<Running> {
  // Logs are masked like everything else; the config's own patterns apply once it is loaded.
  const logRedaction: { audit?: AuditConfig } = {};
  const rootLog = createLogger({
    level: givenEnv.LOG_LEVEL,
    base: { service: 'countersign', role: givenEnv.COUNTERSIGN_ROLE },
    redactor: () => redactorOf(logRedaction.audit),
    destination: opts.logDestination,
  });
  // Lines written during a job or a Slack request carry its escalation's ids (src/config/log-scope.ts).
  const logScope = createLogScope(rootLog);
  const log = logScope.log;
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
  logConnectionErrors(redis, 'app', log);
  const connection = { url: env.REDIS_URL, maxRetriesPerRequest: null } as const;
  const prefix = env.COUNTERSIGN_QUEUE_PREFIX;
  const scheduler = createScheduler(connection, prefix);
  const governance = createGovernanceQueue(connection, prefix);
  // Read at each scrape: every queue's depth, on a connection of their own (shared, not closed by these Queues).
  // Not the app's: a Queue defines BullMQ's Lua scripts on its connection, and ioredis copies every
  // script defined on a connection into each MULTI made on it (about 10 KB a MULTI), so the app's
  // own MULTIs (an agent's denial streak, a rebuild of the decision store) would carry them all.
  const queuesRedis = redis.duplicate();
  logConnectionErrors(queuesRedis, 'queue sampling', log);
  const sampled = Object.entries(queueNames)
    .filter(([key, v]) => key.endsWith('_QUEUE') && typeof v === 'string')
    .map(([, name]) => new Queue(name as string, { connection: queuesRedis, prefix }));
  for (const q of [...scheduler.queues, governance.queue, ...sampled]) logConnectionErrors(q, `queue ${q.name}`, log);
  let workersStarted: ReturnType<typeof startWorkers> | undefined;
  const metrics = createMetrics({
    queues: sampled,
    escalationCounts: () => escalationCounts(database.db),
    unsealedAgeSeconds: () => unsealedAgeSeconds(database.db),
    // The workers start further down; a scrape before then reads nothing here.
    intakeAhead: () => workersStarted?.intakeAhead() ?? { waiting: 0, oldestSeconds: 0 },
    now: Date.now,
  });
  const idsOf = idsResolver((id) => executionIdOf(database.db, id));
  const client = createWebClient({ token: mode.botToken, slackApiUrl: env.SLACK_API_URL, observe: metrics.slackCall });
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
    homePages: createHomePages(redis, prefix),
    config: { current: () => config },
    budgets: createBudgetStore(redis, prefix),
    flags: createAgentFlags(redis, prefix),
    governance,
    log,
    now: () => new Date(),
    // A card post's or callback's claim outlasts the job lock (src/db/queries/leases.ts).
    leaseMs: leaseFor(env.WORKER_LOCK_MS),
    metrics: metrics.port,
  };
  const scope = jobScope({ log, run: logScope.run, ids: idsOf });

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
    stopping: () => draining,
    metrics: (req, res) => metrics.handle(req, res),
  });
  let draining = false;

  let stopWeb = async () => {};
  let webServer: Server | undefined;
  let clicks: InFlight | undefined;
  let port = env.PORT;
  if (runWeb) {
    const { app } = createSlackApp({ mode, slackApiUrl: env.SLACK_API_URL, port: env.PORT, routes, log });
    clicks = scopeSlackRequests(app, { run: logScope.run, ids: (id) => idsOf(id), log });
    registerListeners(app, ports);
    webServer = (await app.start(env.PORT)) as Server | undefined;
    const address = webServer?.address();
    if (address && typeof address === 'object') port = address.port;
    stopWeb = () => app.stop().then(() => undefined);
  } else {
    // Worker-only replicas still answer the probes and /metrics for their orchestrator.
    const server = (webServer = createServer(serveProbes(routes)));
    await new Promise<void>((resolve) => server.listen(env.PORT, resolve));
    const address = server.address();
    if (address && typeof address === 'object') port = address.port;
    stopWeb = () => new Promise((resolve) => server.close(() => resolve()));
  }
  // A scraper inside the cluster may read /metrics on a port of its own, without a token.
  const metricsServer =
    env.METRICS_PORT === undefined
      ? undefined
      : createServer((req, res) => {
          if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/metrics' || req.method !== 'GET') return void res.writeHead(404).end();
          metrics.handle(req, res).catch((err: Error) => res.headersSent ? res.destroy() : res.writeHead(500).end(err.message));
        });
  if (metricsServer) await new Promise<void>((resolve) => metricsServer.listen(env.METRICS_PORT, resolve));
  const workers = runWorkers
    ? startWorkers(ports, {
        connection,
        prefix,
        concurrency: env.WORKER_CONCURRENCY,
        intakePrefetch: env.INTAKE_PREFETCH,
        lockDurationMs: env.WORKER_LOCK_MS,
        callbackSecret: env.CALLBACK_SIGNING_SECRET,
        scope,
        lateClick: (click) => recordLateClick(ports, click),
      })
    : undefined;
  workersStarted = workers;
  const policyWorkers = runWorkers
    ? await startPolicyWorkers(ports, { connection, prefix, concurrency: env.WORKER_CONCURRENCY, lockDurationMs: env.WORKER_LOCK_MS, scope })
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
  // Redis may keep nothing on disk: at start, and whenever it comes back empty, what only it held is rebuilt from Postgres.
  const resetWatch = runWorkers
    ? watchRedisReset({
        redis,
        prefix,
        everyMs: env.REDIS_CHECK_MS,
        log,
        rebuild: () =>
          rebuildFromPostgres(
            {
              ...ports,
              schedules: async () => {
                await workers?.schedule();
                await policyWorkers?.schedule();
                await governance.sync(config.config);
              },
            },
            { decisionsWithinMs: DECISION_TTL_SEC * 1000 },
          ),
      })
    : undefined;
  await resetWatch?.check('start');
  // A process that died between a decision's commit and its enqueue left the decision to the minute
  // sweep, after its 60 s grace: its agent waited up to two minutes. START_NOTIFY_GRACE_MS after start,
  // every decision made before this process started is at least that old, and one sweep with that grace
  // hands them all back. Each step is idempotent (jobs keyed by escalation, callbacks claimed in Postgres),
  // so one still in flight in another replica is not sent twice.
  const startSweep = runWorkers
    ? setTimeout(() => {
        sweep(ports, { notifyGraceMs: START_NOTIFY_GRACE_MS }).then(
          (swept) => {
            if (swept.notified + swept.carded > 0) log.info(swept, 'start sweep: work a stopped process left undone, handed on');
          },
          (err: unknown) => log.warn({ err: (err as Error).message }, 'start sweep failed; the minute sweep will retry'),
        );
      }, START_NOTIFY_GRACE_MS)
    : undefined;
  startSweep?.unref();
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
  const metricsAddress = metricsServer?.address();
  const metricsPort = metricsAddress && typeof metricsAddress === 'object' ? metricsAddress.port : undefined;
  log.info({ port, metricsPort, role: env.COUNTERSIGN_ROLE, slack: mode.kind, db: database.kind }, 'countersign started');
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
    metricsPort,
    sandboxUrl: sandbox?.pageUrl,
    stop() {
      stopping ??= (async () => {
        // Bounded by SHUTDOWN_TIMEOUT_MS whatever state Redis or Postgres is in: in-flight
        // work gets the time left after a reserve for closing connections, then is cut off.
        const deadline = Date.now() + env.SHUTDOWN_TIMEOUT_MS;
        const reserve = Math.min(2000, Math.floor(env.SHUTDOWN_TIMEOUT_MS / 4));
        const left = (keep = 0) => Math.max(0, deadline - keep - Date.now());
        draining = true;
        clearTimeout(startSweep);
        samples.abort();
        resetWatch?.close();
        process.off('SIGHUP', onHup);
        watcher?.close();
        // Long-polls answer at once (as they stand) instead of holding the server's close for up to 25 s.
        await bounded(waiter.close(), left(reserve));
        // No new requests (the listening sockets close) and no new jobs (workers stop fetching);
        // clicks already acknowledged and jobs already running go on.
        const workerSets = [workers, policyWorkers, governanceWorker].filter((w) => w !== undefined);
        const finished = await bounded(
          Promise.allSettled([stopWeb(), clicks?.idle(), ...workerSets.map((w) => w.close())]),
          left(reserve),
        );
        if (!finished) {
          // Past the bound: unfinished jobs keep their lock until it lapses, then another worker takes them up.
          log.warn({ clicks: clicks?.count() ?? 0, timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, 'shutdown: in-flight work did not finish in time; closing by force');
          webServer?.closeAllConnections();
          await bounded(Promise.allSettled(workerSets.map((w) => w.close(true))), left() / 2);
        }
        metricsServer?.close();
        metricsServer?.closeAllConnections();
        await bounded(Promise.allSettled([governance.close(), scheduler.close(), ...sampled.map((q) => q.close())]), left() / 2);
        // QUIT waits for Redis; an unreachable one is cut off instead.
        if (!(await bounded(Promise.all([redis.quit(), queuesRedis.quit()]), left() / 2))) [redis, queuesRedis].forEach((r) => r.disconnect());
        await bounded(database.close(), left());
        await bounded(sandbox?.stop(), left());
        await bounded(localRedis.stop(), left());
        log.info({ forced: !finished }, 'countersign stopped');
      })();
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  let running: Running;
  let env: Env;
  try {
    env = loadEnv(process.env);
    running = await start(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`countersign: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const shutdown = (signal: string) => {
    process.stderr.write(`countersign: ${signal}, finishing in-flight work\n`);
    // The stop is bounded step by step; this is the backstop should anything still hang.
    setTimeout(() => {
      process.stderr.write('countersign: shutdown did not finish in SHUTDOWN_TIMEOUT_MS; exiting\n');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS + 1000).unref();
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
