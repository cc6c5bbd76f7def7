import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBot, startChildBotWorld, type ChildBot, type ChildBotWorld } from '../support/child-bot.js';
import { startCallbackServer } from '../support/callback-server.js';
import { eventually } from '../support/services.js';
import { blockActionsBody, blockActionsPayload, postSigned } from '../support/slack-signing.js';
import { APPROVER, CALLBACK_SECRET, GENERAL_CHANNEL, REFUNDS_CHANNEL, SIGNING_SECRET, exampleConfigText, makeEscalation } from '../support/harness.js';
import type { StoredMessage } from '../../src/sandbox/slack-api.js';

/**
 * Two web replicas and two worker processes, each its own OS process, on one
 * Redis and one Postgres: what a scaled-out install runs. Slack's per-channel
 * pace is lifted: this file is about duplicates and losses, not pacing.
 */
const config = exampleConfigText.replace('postsPerSecondPerChannel: 1', 'postsPerSecondPerChannel: 1000').replace('postBurst: 3', 'postBurst: 1000');
const JOURNAL = JSON.parse(readFileSync(new URL('../../drizzle/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };
const N = 60;

let world: ChildBotWorld;
let sink: Awaited<ReturnType<typeof startCallbackServer>>;
const procs: ChildBot[] = [];
let webs: Array<{ bot: ChildBot; port: number }> = [];
let workers: ChildBot[] = [];

const spawn = async (role: 'web' | 'worker') => {
  // A 5 s job lock (not the world's 1.5 s): four processes on two busy cores can stall an event loop past a short
  // lock, and a lapsed lock re-runs a job that is still going (a callback sent twice). A killed worker's jobs come back after it.
  const bot = await spawnBot({ ...world.env, COUNTERSIGN_ROLE: role, CALLBACK_SIGNING_SECRET: CALLBACK_SECRET, WORKER_LOCK_MS: '5000' });
  procs.push(bot);
  return bot;
};

beforeAll(async () => {
  world = await startChildBotWorld({ config });
  sink = await startCallbackServer();
  // All four start at once on an empty database: each runs the migrations on start.
  const [w1, w2, k1, k2] = await Promise.all([spawn('web'), spawn('web'), spawn('worker'), spawn('worker')]);
  webs = [w1!, w2!].map((bot) => ({ bot, port: bot.port }));
  workers = [k1!, k2!];
}, 200_000);

afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
  await sink?.close();
  await world?.close();
});

const cardsOf = (id: string) =>
  [REFUNDS_CHANNEL, GENERAL_CHANNEL].flatMap((channel) => world.fake.messages(channel).filter((m) => m.metadata?.event_payload.escalation_id === id).map((m) => ({ channel, m })));

/** A signed click, as Slack delivers it: to one replica, retried on the other when the first cannot be reached. */
async function click(card: { channel: string; m: StoredMessage }, replica: number): Promise<number> {
  const blocks = (card.m.blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value: string }> }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === 'countersign.approve')!;
  const body = blockActionsBody(blockActionsPayload({ userId: APPROVER, channel: card.channel, messageTs: card.m.ts, actionId: 'countersign.approve', value: button.value }));
  for (const i of [replica, replica + 1]) {
    const web = webs[i % webs.length]!;
    if (web.bot.proc.exitCode !== null || web.bot.proc.signalCode !== null) continue;
    const res = await postSigned(`http://127.0.0.1:${web.port}/slack/events`, SIGNING_SECRET, body).catch(() => undefined);
    if (res) return res.status;
  }
  return 0;
}

describe('scaled out: web replicas and worker processes apart', () => {
  it('runs the migrations once although four processes started together on an empty database', async () => {
    const [row] = await world.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(row!.n).toBe(JOURNAL.entries.length);
  });

  it('posts one card, makes one decision and sends one callback per escalation, while a worker and a web replica are killed', async () => {
    const batch = Array.from({ length: N }, (_, i) => makeEscalation({ issueType: i % 2 ? 'refund' : 'general', callback: { url: sink.url } }));
    let posted = 0;
    const unhook = world.fake.onCall('chat.postMessage', () => {
      // A worker dies a third of the way through the cards; its jobs return to the other after the lock (1.5 s).
      if (++posted === N / 3) workers[0]!.proc.kill('SIGKILL');
    });
    await world.queue.addBulk(batch.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
    await eventually(
      async () => {
        const [r] = await world.sql`select count(*)::int as n from escalations where id = any(${batch.map((e) => e.id)}) and card_state = 'posted'`;
        return r!.n === N ? true : undefined;
      },
      `${N} cards posted`,
      60_000,
    );
    unhook();
    for (const e of batch) expect(cardsOf(e.id), e.id).toHaveLength(1);

    // Every card is clicked twice at once, once through each replica; the first replica dies halfway.
    const statuses: number[] = [];
    for (const [i, e] of batch.entries()) {
      if (i === N / 2) {
        webs[0]!.bot.proc.kill('SIGKILL');
        await webs[0]!.bot.exited;
      }
      const card = cardsOf(e.id)[0]!;
      statuses.push(...(await Promise.all([click(card, 0), click(card, 1)])));
    }
    expect(statuses.every((s) => s === 200)).toBe(true);

    const ids = batch.map((e) => e.id);
    await eventually(
      async () => {
        const [r] = await world.sql`select count(*)::int as n from escalations where id = any(${ids}) and status = 'approved'`;
        return r!.n === N ? true : undefined;
      },
      `${N} approvals`,
      60_000,
    );
    // A callback the killed worker had claimed waits out its claim: the 5 s lock plus LEASE_MARGIN_MS (12 s).
    await Promise.all(ids.map((id) => sink.waitFor(id, 60_000)));
    const decisions = await world.sql<{ escalation_id: string; n: number }[]>`
      select escalation_id, count(*)::int as n from events where type = 'decision_made' and escalation_id = any(${ids}) group by escalation_id`;
    expect(decisions).toHaveLength(N);
    expect(decisions.filter((d) => d.n !== 1)).toEqual([]);
    const callbacks = new Map<string, number>();
    for (const c of sink.received) callbacks.set(String(c.json.escalationId), (callbacks.get(String(c.json.escalationId)) ?? 0) + 1);
    expect(ids.filter((id) => callbacks.get(id) !== 1)).toEqual([]);
    for (const e of batch) expect(cardsOf(e.id)).toHaveLength(1);
  }, 120_000);
});
