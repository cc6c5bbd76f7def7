import { createServer } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import { ensureRedis, type RedisHandle } from '../../src/embedded/redis-server.js';
import { startChildBotWorld, type ChildBot, type ChildBotWorld } from '../support/child-bot.js';
import { eventually } from '../support/services.js';
import { APPROVER, SIGNING_SECRET, exampleConfigText, makeEscalation } from '../support/harness.js';
import { blockActionsBody, blockActionsPayload, postSigned } from '../support/slack-signing.js';
import type { StoredMessage } from '../support/fake-slack.js';

/** Generous pacing, and the refunds route's approvers include a user group: deciding asks Slack for its members first. */
const config = exampleConfigText
  .replace('postsPerSecondPerChannel: 1', 'postsPerSecondPerChannel: 1000')
  .replace('postBurst: 3', 'postBurst: 1000')
  .replace('# usergroup: S0FINANCE1', 'usergroup: S0FINANCE1');
const SHUTDOWN_TIMEOUT_MS = 3000;
/** Child bots start slowly on a loaded machine (tsx, migrations): each test and hook gets this long (ms). */
const SLOW = 120_000;

const portOf = (bot: ChildBot): number => {
  const line = bot.output().split('\n').find((l) => l.includes('"countersign started"'));
  return (JSON.parse(line!) as { port: number }).port;
};

/** Sends SIGTERM and resolves once the bot says it is finishing its in-flight work. */
async function terminate(bot: ChildBot): Promise<void> {
  bot.proc.kill('SIGTERM');
  await eventually(async () => (bot.output().includes('SIGTERM, finishing in-flight work') ? true : undefined), 'the shutdown to begin');
}

describe('graceful shutdown', () => {
  let world: ChildBotWorld;
  let sql: postgres.Sql;

  beforeAll(async () => {
    world = await startChildBotWorld({ config, env: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS * 3) }, setup: (fake) => fake.setUsergroup('S0FINANCE1', ['U0FINANCE01']) });
    ({ sql } = world);
  }, SLOW);
  afterAll(async () => {
    await world?.close();
  }, SLOW);

  it('lets a card post in flight at SIGTERM finish, records it in Postgres, and exits 0', async () => {
    const bot = await world.bot();
    const e = makeEscalation();
    const unhook = world.fake.onCall('chat.postMessage', async (call) => {
      const id = (call.args.metadata as { event_payload?: { escalation_id?: string } })?.event_payload?.escalation_id;
      // Slack answers only once the bot is already shutting down.
      if (id === e.id) await terminate(bot);
    });
    await world.queue.add('escalation', e, { jobId: e.id });
    expect(await bot.exited, bot.output()).toBe(0);
    unhook();
    const [row] = await sql`select card_state, card_ts from escalations where id = ${e.id}`;
    expect(row).toMatchObject({ card_state: 'posted' });
    expect(row!.card_ts).toBe(world.fake.messages('C0REFUNDS1').find((m) => m.metadata?.event_payload.escalation_id === e.id)?.ts);
    expect(bot.output()).toContain('"forced":false');
  }, SLOW);

  it('lets a click in flight at SIGTERM make its decision, recorded in Postgres, and exits 0', async () => {
    const bot = await world.bot();
    const e = makeEscalation();
    await world.queue.add('escalation', e, { jobId: e.id });
    const card = await eventually(
      async () => world.fake.messages('C0REFUNDS1').find((m) => m.metadata?.event_payload.escalation_id === e.id),
      'the card',
    );
    await eventually(async () => ((await sql`select 1 from escalations where id = ${e.id} and card_state = 'posted'`).length ? true : undefined), 'the card recorded');
    // The click is being decided (its approvers looked up) when the bot is told to stop.
    const unhook = world.fake.onCall('usergroups.users.list', () => terminate(bot));
    const clicked = click(portOf(bot), card);
    expect(await bot.exited).toBe(0);
    unhook();
    expect((await clicked).status).toBe(200);
    const [row] = await sql`select status, decided_by from escalations where id = ${e.id}`;
    expect(row).toEqual({ status: 'approved', decided_by: APPROVER });
    const made = await sql`select 1 from events where escalation_id = ${e.id} and type = 'decision_made'`;
    expect(made).toHaveLength(1);
  }, SLOW);
});

function click(port: number, card: StoredMessage): Promise<Response> {
  const blocks = (card.blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value: string }> }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === 'countersign.approve')!;
  const body = blockActionsBody(blockActionsPayload({ userId: APPROVER, channel: 'C0REFUNDS1', messageTs: card.ts, actionId: button.action_id, value: button.value }));
  return postSigned(`http://127.0.0.1:${port}/slack/events`, SIGNING_SECRET, body);
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('a Redis outage', () => {
  let world: ChildBotWorld;
  let redis: RedisHandle;

  beforeAll(async () => {
    // A Redis of this test's own, to kill: a redis-server on a free port.
    redis = await ensureRedis(`redis://127.0.0.1:${await freePort()}`, pino({ level: 'silent' }));
    world = await startChildBotWorld({ config, env: { REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) } });
  }, SLOW);
  afterAll(async () => {
    await redis?.stop();
    await world?.close();
  }, SLOW);

  it('leaves the bot alive but not ready, and SIGTERM still ends it within SHUTDOWN_TIMEOUT_MS with no unhandled Redis error', async () => {
    const bot = await world.bot();
    const base = `http://127.0.0.1:${portOf(bot)}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    process.kill(redis.started!.pid!, 'SIGKILL');

    // Readiness follows Redis; liveness does not (restarting would not bring Redis back).
    const ready = await eventually(async () => {
      const res = await fetch(`${base}/readyz`);
      return res.status === 503 ? ((await res.json()) as { checks: Record<string, string> }) : undefined;
    }, '/readyz to fail');
    expect(ready.checks.redis).toMatch(/^error/);
    expect(ready.checks.postgres).toBe('ok');
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    expect((await fetch(`${base}/livez`)).status).toBe(200);

    const asked = performance.now();
    bot.proc.kill('SIGTERM');
    const code = await bot.exited;
    const tookMs = performance.now() - asked;
    // 0: the stop finished by its own bounds, not by the backstop (which exits 1 a second past the bound).
    expect(code).toBe(0);
    // The bound, plus process start-up of the exit itself on a loaded machine.
    expect(tookMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2000);
    expect(bot.output()).toContain('countersign stopped');
    expect(bot.output()).not.toContain('Unhandled error event');
  }, SLOW);
});
