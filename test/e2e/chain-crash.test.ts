import type { Queue } from 'bullmq';
import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallbackServer } from '../support/callback-server.js';
import { startChildBotWorld, type ChildBotWorld } from '../support/child-bot.js';
import { GROUP, PRIMARY, QUICK_CHAIN_MESSAGES, SECONDARY, chainConfig, chainMessagesIn } from '../support/chain-config.js';
import type { FakeSlack } from '../support/fake-slack.js';
import { APPROVER, CALLBACK_SECRET, makeEscalation } from '../support/harness.js';
import { eventually } from '../support/services.js';

let world: ChildBotWorld;
let fake: FakeSlack;
let sql: postgres.Sql;
let queue: Queue;
let cb: Awaited<ReturnType<typeof startCallbackServer>>;
const bot = () => world.bot();

beforeAll(async () => {
  cb = await startCallbackServer();
  world = await startChildBotWorld({ config: chainConfig(), env: { CALLBACK_SIGNING_SECRET: CALLBACK_SECRET }, setup: (f) => f.setUsergroup(GROUP, [APPROVER]) });
  ({ fake, sql, queue } = world);
});

afterAll(async () => {
  await world?.close();
  await cb?.close();
});

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
  }, 120_000);
});
