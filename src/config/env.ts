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

/** A number from the environment; blank counts as unset (z.coerce alone reads '' as 0, i.e. a random port). */
const envNumber = (n: z.ZodNumber, fallback: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.coerce.number().pipe(n).default(fallback));

export const envSchema = z
  .object({
    /** Unset: embedded PGlite under `./.countersign/pglite` (demo, single node). */
    DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    /**
     * Unset: DATABASE_URL. The owner that applies migrations, when the bot itself
     * runs as a login role in `countersign_app` (INSERT and SELECT only on the audit tables).
     */
    MIGRATE_DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    REDIS_URL: urlString.default('redis://127.0.0.1:6379'),
    PORT: envNumber(z.number().int().min(0).max(65535), 3000),
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_BOT_TOKEN: optionalString,
    SLACK_APP_TOKEN: optionalString,
    /** Base URL of the Slack Web API; tests and the sandbox point it elsewhere. */
    SLACK_API_URL: urlString.default('https://slack.com/api/'),
    /** Unset: ./countersign.yml, or examples/countersign.yml when that file is missing. */
    COUNTERSIGN_CONFIG: optionalString,
    CALLBACK_SIGNING_SECRET: optionalString,
    /** Comma-separated bearer tokens for the agent HTTP API; empty disables it. */
    API_TOKENS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    /** Redis key prefix of every queue. The agent contract fixes it; tests isolate with it. */
    COUNTERSIGN_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]+$/).default('countersign'),
    /** `all` (default) runs the HTTP receiver and the workers in one process. */
    COUNTERSIGN_ROLE: z.enum(['all', 'web', 'worker']).default('all'),
    /** Where embedded state (PGlite) lives when DATABASE_URL is unset. */
    COUNTERSIGN_DATA_DIR: z.string().min(1).default('./.countersign'),
    /** Jobs processed at once per worker process. */
    WORKER_CONCURRENCY: envNumber(z.number().int().min(1).max(1000), 50),
    /** BullMQ lock; a crashed worker's job is retried after about this long (ms). */
    WORKER_LOCK_MS: envNumber(z.number().int().min(1000), 30_000),
    /** Apply pending migrations at start (under an advisory lock). */
    MIGRATE_ON_START: z.stringbool().default(true),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Sandbox mode only (no Slack credentials): stream the sample agents' escalations at start. */
    SANDBOX_SAMPLES: z.stringbool().default(true),
  })
  .superRefine((env, ctx) => {
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

/** Parses the environment; a bad value throws one line naming the variable. */
export function loadEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source, { error: requiredMessage });
  if (!result.success) throw new ConfigError(`Invalid environment: ${describeErrors(fieldErrors(result.error, '(env)'))}`);
  return result.data;
}
