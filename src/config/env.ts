import { z } from 'zod';
import { describeErrors, fieldErrors, requiredMessage } from '../domain/validation.js';

/**
 * Process environment, parsed once at start-up. Nothing else in the code base
 * reads `process.env`: everything flows from the `Env` value returned here.
 */
/** Unset and blank are the same: an empty line in a .env file means "not set". */
const optionalString = z
  .string()
  .optional()
  .transform((s) => s?.trim() || undefined);

const urlString = z.url();

/**
 * `redis://` or `rediss://` only: ioredis reads a scheme-less `localhost:6379`
 * as a path and quietly connects to db 0 of the default host.
 */
const redisUrl = z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0' });

/** A number from the environment; blank counts as unset (z.coerce alone reads '' as 0, i.e. a random port). */
const envNumber = (n: z.ZodNumber, fallback: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number().pipe(n).default(fallback));

/** Every variable, each validated on its own; the cross-variable rules of the bot are in `envSchema`. */
export const envFields = z.object({
  DATABASE_URL: optionalString
    .pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional())
    .describe('Postgres URL (`postgres://` or `postgresql://`). Unset: embedded PGlite in `$COUNTERSIGN_DATA_DIR/pglite`, for demos and single-node use. Both use one schema and one set of migrations.'),
  MIGRATE_DATABASE_URL: optionalString
    .pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional())
    .describe('The owner that applies migrations, when `DATABASE_URL` is a login role in `countersign_app` (INSERT and SELECT only on the audit tables). Unset: `DATABASE_URL` migrates. See [Append-only, twice over](audit.md#append-only-twice-over).'),
  REDIS_URL: redisUrl
    .default('redis://127.0.0.1:6379')
    .describe('Redis for the queues, the per-channel pacing and the decision store: `redis://` or `rediss://` (a scheme-less `host:port` is refused). A local address that does not answer makes `npm start` start a `redis-server` from the PATH.'),
  PORT: envNumber(z.number().int().min(0).max(65535), 3000).describe('HTTP port: `/slack/events` (HTTP mode), the probes (`/livez`, `/readyz`, `/healthz`), `/metrics` and `/api/…`. `0` picks a free port. The sandbox page is on `PORT + 1`.'),
  SLACK_SIGNING_SECRET: optionalString.describe('HTTP mode, together with `SLACK_BOT_TOKEN`. Every Slack request is checked against it.'),
  SLACK_BOT_TOKEN: optionalString.describe('Bot token (`xoxb-…`). Required in both modes. With no Slack credentials at all, the bot runs against the local Slack sandbox.'),
  SLACK_APP_TOKEN: optionalString.describe('App-level token (`xapp-…`, `connections:write`). Setting it, together with `SLACK_BOT_TOKEN`, selects Socket Mode.'),
  SLACK_API_URL: urlString.default('https://slack.com/api/').describe('Base URL of the Slack Web API. Tests and the sandbox point it at a fake server.'),
  COUNTERSIGN_CONFIG: optionalString.describe(
    'Path of the YAML config file. Unset: `./countersign.yml`, and when that is missing `examples/countersign.yml`, with a warning (the bot and the CLI alike). Reloaded on SIGHUP; an invalid file keeps the previous config.',
  ),
  CALLBACK_SIGNING_SECRET: optionalString.describe(
    'HMAC key for agent callbacks. Unset: callbacks are never sent unsigned; they stay queued (retried with backoff) until it is set and the workers restart, and a warning is logged at start.',
  ),
  API_TOKENS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .describe('Comma-separated bearer tokens for the agent HTTP API and `/metrics`. Empty disables the API: every call gets 401.'),
  COUNTERSIGN_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('countersign')
    .describe('Redis key prefix of every queue. The agent contract fixes it to `countersign`; change it only to run several installations on one Redis (the tests isolate with it).'),
  COUNTERSIGN_ROLE: z
    .enum(['all', 'web', 'worker'])
    .default('all')
    .describe('`all` runs the HTTP receiver and the workers in one process; `web` only the receiver; `worker` only the workers, plus the probes (`/livez`, `/readyz`, `/healthz`) and `/metrics`.'),
  METRICS_PORT: z
    .preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number().pipe(z.number().int().min(0).max(65535)).optional())
    .describe('Serve `/metrics` (Prometheus text format) without a token on this port too, for a scraper inside the cluster. Unset: `/metrics` is on `PORT` only, behind a bearer token from `API_TOKENS`.'),
  SHUTDOWN_TIMEOUT_MS: envNumber(z.number().int().min(100).max(600_000), 10_000).describe(
    'On SIGTERM or SIGINT: stop taking new requests and jobs, let in-flight ones finish for up to this long (ms), then close by force and exit, whatever state Redis or Postgres is in.',
  ),
  COUNTERSIGN_DATA_DIR: z.string().min(1).default('./.countersign').describe('Where embedded state (PGlite) lives when `DATABASE_URL` is unset.'),
  WORKER_CONCURRENCY: envNumber(z.number().int().min(1).max(1000), 50).describe('Jobs processed at once per queue in each worker process.'),
  INTAKE_PREFETCH: envNumber(z.number().int().min(1).max(10_000), 1000).describe(
    "Agents' escalation jobs each worker process takes from the queue ahead of their turn. They wait in memory, by their route's channel, and `WORKER_CONCURRENCY` of them run at once, each channel in turn, so that a burst into one channel does not hold up the others' cards while the burst is taken in. Beyond this many, a burst is taken in arrival order. A value below `WORKER_CONCURRENCY` counts as `WORKER_CONCURRENCY`. The costs, which a lower value trades against fairness: the jobs taken ahead are held in memory (up to this many times an agent's largest job, which can be about 1 MB); BullMQ fetches until it holds this many before it starts the next job it fetched, so the first jobs of a large burst start only once the rest are fetched (about 1 s for 1,000 on a 2-core machine); and if the process is killed, the jobs it took ahead wait for their lock to lapse (`WORKER_LOCK_MS`), as running jobs do, instead of going to another worker at once. With several worker processes, each takes its own share ahead, and a lower value (about 100) spreads a burst more evenly between them. `/metrics` shows them as `countersign_intake_ahead_jobs`.",
  ),
  WORKER_LOCK_MS: envNumber(z.number().int().min(1000), 30_000).describe("BullMQ lock duration (ms). A crashed worker's job is taken up again after about this long."),
  REDIS_CHECK_MS: envNumber(z.number().int().min(100), 5000).describe(
    "How often (ms) the workers check that Redis still holds the bot's state (one EXISTS of a sentinel key). An emptied Redis (a restart without persistence, a flush) is rebuilt from Postgres: job schedulers, expiry and review timers, chain steps, cards not yet posted, callbacks not yet delivered, budgets and pauses. A reconnection is checked at once.",
  ),
  MIGRATE_ON_START: z.stringbool().default(true).describe('Apply pending migrations at start, under an advisory lock.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Logs are JSON lines (pino) on stdout.'),
  SANDBOX_SAMPLES: z.stringbool().default(true).describe("Sandbox mode only (no Slack credentials): stream the sample agents' escalations at start."),
});

/** The bot's environment: every variable, and the Slack credentials that only make sense together. */
export const envSchema = envFields.superRefine((env, ctx) => {
  if (env.SLACK_APP_TOKEN && !env.SLACK_BOT_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'Required with SLACK_APP_TOKEN (Socket Mode)' });
  }
  if (env.SLACK_SIGNING_SECRET && !env.SLACK_BOT_TOKEN) {
    ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'Required with SLACK_SIGNING_SECRET (HTTP mode)' });
  }
  if (env.SLACK_BOT_TOKEN && !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN) {
    ctx.addIssue({
      code: 'custom',
      path: ['SLACK_SIGNING_SECRET'],
      message: 'Required with SLACK_BOT_TOKEN in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    });
  }
});

export type Env = z.infer<typeof envSchema>;

export type SlackMode =
  | { kind: 'http'; signingSecret: string; botToken: string }
  | { kind: 'socket'; appToken: string; botToken: string; signingSecret?: string }
  | { kind: 'none' };

export function slackMode(env: Env): SlackMode {
  if (env.SLACK_APP_TOKEN && env.SLACK_BOT_TOKEN) {
    return { kind: 'socket', appToken: env.SLACK_APP_TOKEN, botToken: env.SLACK_BOT_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET };
  }
  if (env.SLACK_SIGNING_SECRET && env.SLACK_BOT_TOKEN) {
    return { kind: 'http', signingSecret: env.SLACK_SIGNING_SECRET, botToken: env.SLACK_BOT_TOKEN };
  }
  return { kind: 'none' };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `source` with `schema`; a bad value throws one line naming each bad variable and what was expected. */
export function loadEnvFor<S extends z.ZodType>(schema: S, source: Record<string, string | undefined>): z.output<S> {
  const result = schema.safeParse(source, { error: requiredMessage });
  if (!result.success) throw new ConfigError(`Invalid environment: ${describeErrors(fieldErrors(result.error, '(env)'))}`);
  return result.data;
}

/** The bot's whole environment. */
export function loadEnv(source: Record<string, string | undefined>): Env {
  return loadEnvFor(envSchema, source);
}

/**
 * What each command-line tool reads, picked from the same fields: a tool
 * checks only its own variables, so Slack credentials half set for the bot
 * (or a bad REDIS_URL) never stop `policy check` or `audit verify`.
 */
export const commandEnv = {
  /** `countersign policy check`: the config file. */
  policy: envFields.pick({ COUNTERSIGN_CONFIG: true }),
  /** `countersign audit search|export`, `countersign explain`: the database, and the config for its `audit.redact`. */
  database: envFields.pick({ DATABASE_URL: true, COUNTERSIGN_DATA_DIR: true, COUNTERSIGN_CONFIG: true }),
  /** `countersign audit verify [--anchors]`: also the bot token, to read the anchors back from Slack. */
  auditVerify: envFields.pick({ DATABASE_URL: true, COUNTERSIGN_DATA_DIR: true, COUNTERSIGN_CONFIG: true, SLACK_BOT_TOKEN: true, SLACK_API_URL: true }),
  /** `npm run db:migrate`. */
  migrate: envFields.pick({ DATABASE_URL: true, MIGRATE_DATABASE_URL: true, COUNTERSIGN_DATA_DIR: true }),
  /** `npm run sandbox:agents`: the queues. */
  queue: envFields.pick({ REDIS_URL: true, COUNTERSIGN_QUEUE_PREFIX: true }),
};
