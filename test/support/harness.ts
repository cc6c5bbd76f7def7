import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import type { DestinationStream } from 'pino';
import { loadEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/file.js';
import { CountersignClient } from '../../src/client/index.js';
import type { EscalationInput } from '../../src/domain/escalation.js';
import { ESCALATIONS_QUEUE } from '../../src/queue/names.js';
import { start, type Running } from '../../src/main.js';
import { startFakeSlack, type FakeSlack, type StoredMessage } from './fake-slack.js';
import { blockActionsBody, blockActionsPayload, postSigned } from './slack-signing.js';
import { REDIS_URL, createTestDatabase, eventually, uniqueName, dropRedisPrefix } from './services.js';
import { listCallbackSink } from './callback-server.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const CALLBACK_SECRET = 'test-callback-secret';
export const API_TOKEN = 'test-api-token';
export const APPROVER = 'U0APPROVER1';
export const APPROVER_2 = 'U0APPROVER2';
export const OWNER = 'U0AGENTOWNR';
export const REFUNDS_CHANNEL = 'C0REFUNDS1';
export const GENERAL_CHANNEL = 'C0GENERAL1';

const exampleEscalation = JSON.parse(readFileSync(new URL('../../examples/escalation.json', import.meta.url), 'utf8')) as EscalationInput;
export const exampleConfigText = readFileSync(new URL('../../examples/countersign.yml', import.meta.url), 'utf8');
/** The example escalation's callback host (never reached in tests): listed with the sink, so any test config takes `makeEscalation()`. */
export const EXAMPLE_CALLBACK_HOST = new URL(exampleEscalation.callback!.url).hostname;

/**
 * The example escalation with a fresh id; overrides merge one level deep. Its
 * fixed deadline is dropped (the config's default applies), so that the
 * request is as pending on any date as on the day the example was written.
 */
export function makeEscalation(overrides: Partial<EscalationInput> = {}): EscalationInput {
  const { deadline: _fixed, ...base } = structuredClone(exampleEscalation);
  return { ...base, id: randomUUID(), executionId: `exec-${randomUUID().slice(0, 8)}`, ...overrides };
}

/** A purchase by the example config's procurement agent: autonomous up to $250, restricted above. */
export function makePurchase(amountUsd: number, overrides: Partial<EscalationInput> = {}): EscalationInput {
  const base = makeEscalation();
  return {
    ...base,
    agent: { ...base.agent, id: 'procurement-agent', name: 'Procurement Agent' },
    issueType: 'procurement',
    confidence: 0.95,
    cost: { tokens: 100, usd: 0.01 },
    action: { type: 'purchases.create', params: { amountUsd, vendor: 'acme' }, reversible: true },
    ...overrides,
  };
}

export interface Harness {
  fake: FakeSlack;
  bot: Running;
  baseUrl: string;
  prefix: string;
  dbUrl: string;
  sql: postgres.Sql;
  queue: Queue;
  client: CountersignClient;
  redis: Redis;
  envFor(extra?: Record<string, string>): Record<string, string>;
  enqueue(e: unknown, jobId?: string): Promise<void>;
  /**
   * Waits for the card of an escalation in the fake Slack; with `recorded`,
   * also for the bot to record its ts. A click between the two races the
   * card's own job, and the card may then be brought up to date twice.
   */
  card(id: string, opts?: { recorded?: boolean }): Promise<StoredMessage>;
  click(user: string, actionId: string, card: StoredMessage, channel?: string): Promise<Response>;
  restart(extra?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/**
 * `config` (the example's by default) gets the loopback callback sink and the
 * example escalation's callback host listed in `callbacks.allowedHosts`,
 * unless `listCallbackSink` is false.
 */
export async function startHarness(
  opts: {
    config?: string;
    env?: Record<string, string>;
    listCallbackSink?: boolean;
    /** A Redis of the test's own (default: the shared one). */
    redisUrl?: string;
    /** The bot's log lines (with LOG_LEVEL in `env`). */
    logDestination?: DestinationStream;
  } = {},
): Promise<Harness> {
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const fake = await startFakeSlack();
  const database = await createTestDatabase();
  const prefix = uniqueName('cst');
  const envFor = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    PORT: '0',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_API_URL: fake.url,
    CALLBACK_SIGNING_SECRET: CALLBACK_SECRET,
    API_TOKENS: `other-token,${API_TOKEN}`,
    COUNTERSIGN_QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    WORKER_LOCK_MS: '10000',
    ...opts.env,
    ...extra,
  });
  const given = opts.config ?? exampleConfigText;
  const configText = opts.listCallbackSink === false ? given : listCallbackSink(given, [EXAMPLE_CALLBACK_HOST]);
  const boot = (extra?: Record<string, string>) => start(loadEnv(envFor(extra)), parseConfig(configText, 'test config'), { logDestination: opts.logDestination });
  let bot = await boot();
  const sql = postgres(database.url, { max: 4, onnotice: () => {} });
  const queue = new Queue(ESCALATIONS_QUEUE, { connection: { url: redisUrl }, prefix });
  const client = new CountersignClient({ redisUrl, prefix });
  const redis = new Redis(redisUrl);
  // A test may stop its own Redis; ioredis reconnects by itself.
  redis.on('error', () => {});
  const h: Harness = {
    fake,
    get bot() {
      return bot;
    },
    get baseUrl() {
      return `http://127.0.0.1:${bot.port}`;
    },
    prefix,
    dbUrl: database.url,
    sql,
    queue,
    client,
    redis,
    envFor,
    async enqueue(e, jobId) {
      const id = jobId ?? (e as { id?: unknown }).id;
      await queue.add('escalation', e, { jobId: typeof id === 'string' ? id : undefined });
    },
    async card(id, opts) {
      // A 429'd or failed call is logged too: wait for the card Slack actually stored.
      const stored = () =>
        fake.calls
          .filter((c) => c.method === 'chat.postMessage')
          .map((c) => fake.messages(String(c.args.channel)).find((m) => m.metadata?.event_payload.escalation_id === id))
          .find((m) => m !== undefined);
      await fake.waitFor((c) => c.method === 'chat.postMessage' && stored() !== undefined);
      const card = stored()!;
      if (opts?.recorded) {
        await eventually(async () => ((await sql`select 1 from escalations where id = ${id} and card_ts = ${card.ts}`).length ? true : undefined), `card ${id} recorded`);
      }
      return card;
    },
    async click(user, actionId, card, channel = REFUNDS_CHANNEL) {
      const blocks = (card.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;
      const button = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === actionId);
      if (!button) throw new Error(`no ${actionId} button on the card`);
      const body = blockActionsBody(blockActionsPayload({ userId: user, channel, messageTs: card.ts, actionId, value: button.value }));
      return postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, body);
    },
    async restart(extra) {
      await bot.stop();
      bot = await boot(extra);
    },
    async close() {
      await bot.stop();
      await client.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      // Internal queues share the prefix; drop every key of this test's prefix.
      await dropRedisPrefix(redis, prefix);
      redis.disconnect();
      await sql.end();
      await fake.close();
      await database.drop();
    },
  };
  return h;
}
