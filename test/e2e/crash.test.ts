import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import type postgres from 'postgres';
import type { FakeSlack } from '../support/fake-slack.js';
import { startChildBotWorld, type ChildBotWorld } from '../support/child-bot.js';
import { eventually } from '../support/services.js';
import { exampleConfigText, makeEscalation } from '../support/harness.js';

/** Generous pacing: this file is about crashes, not Slack's per-channel pace. */
const config = exampleConfigText.replace('postsPerSecondPerChannel: 1', 'postsPerSecondPerChannel: 1000').replace('postBurst: 3', 'postBurst: 1000');

let world: ChildBotWorld;
let fake: FakeSlack;
let sql: postgres.Sql;
let queue: Queue;
const bot = () => world.bot();

beforeAll(async () => {
  world = await startChildBotWorld({ config });
  ({ fake, sql, queue } = world);
});

afterAll(async () => {
  await world?.close();
});

const cardsOf = (id: string) =>
  ['C0REFUNDS1', 'C0GENERAL1'].flatMap((ch) => fake.messages(ch)).filter((m) => m.metadata?.event_payload.escalation_id === id);

async function allPosted(ids: string[]): Promise<void> {
  await eventually(
    async () => {
      const rows = await sql`select count(*)::int as n from escalations where id = any(${ids}) and card_state = 'posted'`;
      return rows[0]!.n === ids.length ? true : undefined;
    },
    `${ids.length} cards recorded`,
    // A card whose post a killed run had claimed waits out the claim: the 1.5 s lock plus LEASE_MARGIN_MS (12 s).
    75_000,
  );
}

describe('crashes', () => {
  it('recovers a card posted by a worker killed before it recorded the ts, without posting it twice', async () => {
    const first = await bot();
    const e = makeEscalation();
    const unhook = fake.onCall('chat.postMessage', (call) => {
      const id = (call.args.metadata as { event_payload?: { escalation_id?: string } })?.event_payload?.escalation_id;
      if (id !== e.id) return;
      // Slack has the card; the bot dies before it learns the ts.
      first.proc.kill('SIGKILL');
      return 'hold';
    });
    await queue.add('escalation', e, { jobId: e.id });
    expect(await first.exited).toBeNull();
    unhook();
    const [mid] = await sql`select card_state, card_ts from escalations where id = ${e.id}`;
    expect(mid).toEqual({ card_state: 'posting', card_ts: null });

    const second = await bot();
    await allPosted([e.id]);
    expect(cardsOf(e.id)).toHaveLength(1);
    const [row] = await sql`select card_ts from escalations where id = ${e.id}`;
    expect(row!.card_ts).toBe(cardsOf(e.id)[0]!.ts);
    const [ev] = await sql`select data from events where escalation_id = ${e.id} and type = 'card_posted'`;
    expect(ev!.data).toMatchObject({ reconciled: true });
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);

  it('loses no escalation and posts no duplicate card when the worker is killed in the middle of a stream', async () => {
    const first = await bot();
    const batch = Array.from({ length: 40 }, (_, i) => makeEscalation({ issueType: i % 2 ? 'refund' : 'general' }));
    let seen = 0;
    const unhook = fake.onCall('chat.postMessage', () => {
      seen++;
      if (seen === 12) first.proc.kill('SIGKILL');
      return seen >= 12 ? 'hold' : undefined;
    });
    await queue.addBulk(batch.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
    expect(await first.exited).toBeNull();
    unhook();

    const second = await bot();
    await allPosted(batch.map((e) => e.id));
    for (const e of batch) expect(cardsOf(e.id), e.id).toHaveLength(1);
    const received = await sql`select count(distinct escalation_id)::int as n from events where type = 'received' and escalation_id = any(${batch.map((e) => e.id)})`;
    expect(received[0]!.n).toBe(40);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);

  it('finishes in-flight jobs on SIGTERM and the next process picks up the rest', async () => {
    const first = await bot();
    const batch = Array.from({ length: 30 }, () => makeEscalation({ issueType: 'general' }));
    let seen = 0;
    const unhook = fake.onCall('chat.postMessage', () => {
      if (++seen === 5) first.proc.kill('SIGTERM');
    });
    await queue.addBulk(batch.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
    expect(await first.exited).toBe(0);
    unhook();
    const second = await bot();
    await allPosted(batch.map((e) => e.id));
    for (const e of batch) expect(cardsOf(e.id)).toHaveLength(1);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
