import { Queue } from 'bullmq';
import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildBotWorld, type ChildBot, type ChildBotWorld } from '../support/child-bot.js';
import type { FakeSlack, StoredMessage } from '../support/fake-slack.js';
import { APPROVER, REFUNDS_CHANNEL, SIGNING_SECRET, exampleConfigText, makeEscalation } from '../support/harness.js';
import { blockActionsBody, blockActionsPayload, postSigned } from '../support/slack-signing.js';
import { REDIS_URL, eventually } from '../support/services.js';
import { MAINTENANCE_QUEUE } from '../../src/queue/names.js';

/** Generous pacing: this file is about crashes, not Slack's per-channel pace. */
const config = exampleConfigText.replace('postsPerSecondPerChannel: 1', 'postsPerSecondPerChannel: 1000').replace('postBurst: 3', 'postBurst: 1000');

/** Each test starts two bot processes (tsx), which takes seconds each on a loaded machine. */
const CRASH_TEST_MS = 240_000;
/** Clicks sent at once in the burst test. */
const CLICKS_IN_FLIGHT = 10;

let world: ChildBotWorld;
let fake: FakeSlack;
let sql: postgres.Sql;
let queue: Queue;

beforeAll(async () => {
  // A killed worker's escalation job stays locked for a minute: a decision made
  // after the restart comes before the job is taken up again, as in production
  // (WORKER_LOCK_MS 30 s) when someone decides as soon as the bot is back.
  world = await startChildBotWorld({ config, env: { WORKER_LOCK_MS: '60000' } });
  ({ fake, sql, queue } = world);
});

afterAll(async () => {
  await world?.close();
});

const cardOf = (id: string) => fake.messages(REFUNDS_CHANNEL).find((m) => m.metadata?.event_payload.escalation_id === id);

function approveButton(card: StoredMessage): string {
  const blocks = (card.blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value: string }> }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === 'countersign.approve');
  if (!button) throw new Error(`no approve button on card ${card.ts}`);
  return button.value;
}

/** A signed Approve click on `card`, as Slack sends it; `lost` when no answer came (the process died). */
async function clickApprove(bot: ChildBot, card: StoredMessage): Promise<number | 'lost'> {
  const body = blockActionsBody(blockActionsPayload({ userId: APPROVER, channel: REFUNDS_CHANNEL, messageTs: card.ts, actionId: 'countersign.approve', value: approveButton(card) }));
  try {
    return (await postSigned(`http://127.0.0.1:${bot.port}/slack/events`, SIGNING_SECRET, body)).status;
  } catch {
    return 'lost';
  }
}

async function allPosted(ids: string[]): Promise<void> {
  await eventually(
    async () => {
      const rows = await sql`select count(*)::int as n from escalations where id = any(${ids}) and card_state = 'posted'`;
      return rows[0]!.n === ids.length ? true : undefined;
    },
    `${ids.length} cards recorded`,
    60_000,
  );
}

/** Approvals recorded for `ids`: each id's decision_made events. */
async function decisionsOf(ids: string[]): Promise<Map<string, number>> {
  const rows = await sql<{ id: string; n: number }[]>`
    select e.id, count(ev.id)::int as n from escalations e join events ev on ev.escalation_id = e.id and ev.type = 'decision_made'
    where e.id = any(${ids}) and e.status = 'approved' and e.decided_by = ${APPROVER} group by e.id`;
  return new Map(rows.map((r) => [r.id, r.n]));
}

/** A card post that reaches Slack while its process is killed before it hears back: the row stays `posting`. */
async function crashDuringPost(first: ChildBot): Promise<{ id: string; card: StoredMessage }> {
  const e = makeEscalation();
  const unhook = fake.onCall('chat.postMessage', (call) => {
    if ((call.args.metadata as { event_payload?: { escalation_id?: string } })?.event_payload?.escalation_id !== e.id) return;
    first.proc.kill('SIGKILL');
    return 'hold';
  });
  await queue.add('escalation', e, { jobId: e.id });
  expect(await first.exited).toBeNull();
  unhook();
  const [row] = await sql`select card_state, card_ts from escalations where id = ${e.id}`;
  expect(row).toEqual({ card_state: 'posting', card_ts: null });
  return { id: e.id, card: cardOf(e.id)! };
}

/** The actions blocks (buttons) of a message's blocks, as stored or as a call's argument (parsed, or JSON). */
const buttonsOf = (blocks: unknown) => ((typeof blocks === 'string' ? JSON.parse(blocks) : blocks) as Array<{ type: string }>).filter((b) => b.type === 'actions');

async function stop(bot: ChildBot): Promise<void> {
  bot.proc.kill('SIGTERM');
  expect(await bot.exited).toBe(0);
}

describe('a click Slack saw answered', () => {
  it('is a recorded decision, even when the bot is killed in the middle of a burst of 200 clicks', async () => {
    const first = await world.bot();
    const batch = Array.from({ length: 200 }, () => makeEscalation());
    const ids = batch.map((e) => e.id);
    await queue.addBulk(batch.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
    await allPosted(ids);

    // 200 clicks, 10 in flight at any time (a burst, as busy approvers make it); the process dies once 40 have been answered.
    let answered = 0;
    const results: Array<{ id: string; status: number | 'lost' }> = [];
    const queued = [...batch];
    await Promise.all(
      Array.from({ length: CLICKS_IN_FLIGHT }, async () => {
        for (let e = queued.shift(); e; e = queued.shift()) {
          const status = await clickApprove(first, cardOf(e.id)!);
          if (status === 200 && ++answered === 40) first.proc.kill('SIGKILL');
          results.push({ id: e.id, status });
        }
      }),
    );
    expect(await first.exited).toBeNull();
    const acknowledged = results.filter((r) => r.status === 200).map((r) => r.id);
    const unanswered = results.filter((r) => r.status !== 200).map((r) => r.id);
    // The kill came in the middle of the burst.
    expect(acknowledged.length).toBeGreaterThanOrEqual(40);
    expect(unanswered.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status !== 200 && r.status !== 'lost')).toEqual([]);

    // Every acknowledged click is a decision in Postgres, made once.
    const recorded = await decisionsOf(acknowledged);
    expect(acknowledged.filter((id) => recorded.get(id) !== 1)).toEqual([]);

    // After a restart they are still there, and the approver repeats the clicks that failed: each decides, or finds it decided.
    const second = await world.bot();
    expect(await decisionsOf(acknowledged)).toEqual(recorded);
    const again = await Promise.all(unanswered.map((id) => clickApprove(second, cardOf(id)!)));
    expect(again.filter((s) => s !== 200)).toEqual([]);
    // (A repeat answered past slack.decisionAckMs, on the fresh process, may commit just after its answer.)
    await eventually(async () => {
      const all = await decisionsOf(ids);
      return ids.every((id) => all.get(id) === 1) || undefined;
    }, 'every escalation decided once');
    await stop(second);
  }, CRASH_TEST_MS);
});

describe('a card whose post was cut short by a crash', () => {
  it('is found and updated without its buttons when someone decides before its job is taken up again', async () => {
    const { id, card } = await crashDuringPost(await world.bot());
    expect(buttonsOf(card.blocks)).not.toEqual([]);

    const second = await world.bot();
    expect(await clickApprove(second, card)).toBe(200);

    const update = await fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts, 20_000);
    expect(update.args.channel).toBe(REFUNDS_CHANNEL);
    expect(buttonsOf(update.args.blocks)).toEqual([]);
    await eventually(async () => (await sql`select 1 from escalations where id = ${id} and notified_at is not null`).length || undefined, 'notified');
    const [row] = await sql`select status, card_state, card_ts from escalations where id = ${id}`;
    expect(row).toEqual({ status: 'approved', card_state: 'posted', card_ts: card.ts });
    const posted = await sql`select data from events where escalation_id = ${id} and type = 'card_posted'`;
    expect(posted.map((p) => p.data)).toEqual([expect.objectContaining({ ts: card.ts, reconciled: true })]);
    // The one card, never posted again.
    expect(fake.messages(REFUNDS_CHANNEL).filter((m) => m.metadata?.event_payload.escalation_id === id)).toHaveLength(1);
    await stop(second);
  }, CRASH_TEST_MS);

  it('is found and updated by the sweep when it was decided and notified without its card (as before this fix)', async () => {
    const { id, card } = await crashDuringPost(await world.bot());
    // What the earlier version left: decided over a minute ago, the agent told, the card live, its state unknown.
    await sql`update escalations set status = 'approved', decided_by = ${APPROVER}, decided_at = now() - interval '2 minutes', notified_at = now() where id = ${id}`;

    const second = await world.bot();
    // The sweep runs now, as its every-minute job would (a scheduled run may find the row first: either one).
    const maintenance = new Queue(MAINTENANCE_QUEUE, { connection: { url: REDIS_URL }, prefix: world.env.COUNTERSIGN_QUEUE_PREFIX });
    try {
      const job = await maintenance.add('sweep', {}, { jobId: `sweep-${id}` });
      await eventually(async () => (await job.isCompleted()) || undefined, 'the sweep to run');
    } finally {
      await maintenance.close();
    }
    const update = await fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts, 20_000);
    expect(buttonsOf(update.args.blocks)).toEqual([]);
    await eventually(async () => (await sql`select 1 from escalations where id = ${id} and card_state = 'posted' and card_ts = ${card.ts}`).length || undefined, 'the card recorded');
    await stop(second);
  }, CRASH_TEST_MS);
});
