import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallbackServer } from '../support/callback-server.js';
import { spawnBot, type ChildBot } from '../support/child-bot.js';
import { GROUP, PRIMARY, QUICK_CHAIN_MESSAGES, SECONDARY, chainConfig, chainMessagesIn } from '../support/chain-config.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { APPROVER, SIGNING_SECRET, CALLBACK_SECRET, makeEscalation } from '../support/harness.js';
import { REDIS_URL, createTestDatabase, eventually, uniqueName } from '../support/services.js';
import { ESCALATIONS_QUEUE } from '../../src/queue/names.js';

let fake: FakeSlack;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: postgres.Sql;
let queue: Queue;
let cb: Awaited<ReturnType<typeof startCallbackServer>>;
let env: Record<string, string>;
const children: ChildBot[] = [];

beforeAll(async () => {
  fake = await startFakeSlack();
  fake.setUsergroup(GROUP, [APPROVER]);
  db = await createTestDatabase();
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
  cb = await startCallbackServer();
  const prefix = uniqueName('cst');
  const dir = mkdtempSync(join(tmpdir(), 'countersign-'));
  writeFileSync(join(dir, 'countersign.yml'), chainConfig());
  env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    PORT: '0',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_API_URL: fake.url,
    CALLBACK_SIGNING_SECRET: CALLBACK_SECRET,
    COUNTERSIGN_CONFIG: join(dir, 'countersign.yml'),
    COUNTERSIGN_QUEUE_PREFIX: prefix,
    // A killed worker's jobs come back after about this long.
    WORKER_LOCK_MS: '1500',
    LOG_LEVEL: 'info',
  };
  queue = new Queue(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix });
});

afterAll(async () => {
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  await queue?.obliterate({ force: true }).catch(() => {});
  await queue?.close();
  await sql?.end();
  await cb?.close();
  await fake?.close();
  await db?.drop();
});

async function bot(): Promise<ChildBot> {
  const c = await spawnBot(env);
  children.push(c);
  return c;
}

describe('escalation chains across a crash', () => {
  it('resume after the process is killed in the middle of a step, and end in one fail-safe decision', async () => {
    const first = await bot();
    const e = makeEscalation({ callback: { url: cb.url } });
    // The first reply in the card's thread (step 2 of 3) reaches Slack, and the process dies before it hears back.
    const unhook = fake.onCall('chat.postMessage', (call) => {
      if (!call.args.thread_ts) return;
      first.proc.kill('SIGKILL');
      return 'hold';
    });
    await queue.add('escalation', e, { jobId: e.id });
    expect(await first.exited).toBeNull();
    unhook();
    const card = fake.messages('C0REFUNDS1').find((m) => m.metadata?.event_payload.escalation_id === e.id)!;
    expect(card).toBeDefined();

    const second = await bot();
    const got = await cb.waitFor(e.id, 20_000);
    expect(got.json).toMatchObject({ status: 'expired', proceed: false, decision: { failSafe: true } });

    const steps = await sql<{ step: number }[]>`select (data->>'step')::int as step from events where escalation_id = ${e.id} and type = 'chain_step' order by id`;
    expect(steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await sql`select 1 from events where escalation_id = ${e.id} and type = 'expired'`).toHaveLength(1);
    // Every message once, except the interrupted one: Slack had it, the dead process never learned so.
    expect(chainMessagesIn(fake, { ts: card.ts, channel: 'C0REFUNDS1' }, [PRIMARY, SECONDARY])).toEqual([QUICK_CHAIN_MESSAGES[0], ...QUICK_CHAIN_MESSAGES]);
    await eventually(async () => (await sql`select 1 from escalations where id = ${e.id} and notified_at is not null`).length || undefined, 'notified');
    expect(cb.received.filter((c) => c.json.escalationId === e.id)).toHaveLength(1);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
