import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse, stringify } from 'yaml';
import { verifyCallback } from '../src/domain/callback-signature.js';
import type { EscalationInput } from '../src/domain/escalation.js';
import type { FakeCall } from '../test/support/fake-slack.js';
import {
  APPROVER,
  CALLBACK_SECRET,
  REFUNDS_CHANNEL,
  SIGNING_SECRET,
  exampleConfigText,
  makeEscalation,
  startHarness,
  type Harness,
} from '../test/support/harness.js';
import { blockActionsBody, blockActionsPayload, signSlackRequest } from '../test/support/slack-signing.js';
import { post } from './http-client.js';
import { cpuMeter } from './cpu.js';
import { atRate, latency, now, sleep, until, watchLoop, withConcurrency, type Latency, type LoopDelay } from './stats.js';
import { numberFlag } from './run.js';

/** Pacing lifted: this measures the pipeline, not Slack's one-post-a-second-per-channel. */
export const PACING = { postsPerSecondPerChannel: 10_000, postBurst: 10_000 };

export function benchConfigText(): string {
  const doc = parse(exampleConfigText) as { slack: Record<string, number> };
  doc.slack = { ...doc.slack, ...PACING };
  return stringify(doc);
}

/** An agent's callback endpoint that timestamps each arrival. */
export async function startCallbackReceiver() {
  const arrived = new Map<string, number>();
  let badSignatures = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      const body = Buffer.concat(chunks).toString('utf8');
      const ok = verifyCallback({
        secret: CALLBACK_SECRET,
        timestamp: req.headers['x-countersign-timestamp'] as string,
        signature: req.headers['x-countersign-signature'] as string,
        body,
      });
      if (!ok) badSignatures++;
      const id = (JSON.parse(body) as { escalationId?: string }).escalationId;
      if (id && !arrived.has(id)) arrived.set(id, at);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    arrived,
    badSignatures: () => badSignatures,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Card {
  ts: string;
  value: string;
}

export interface PendingCard {
  id: string;
  card: Card;
}

export interface BotBench {
  h: Harness;
  close(): Promise<void>;
  intakeThroughput(n: number): Promise<{ perSec: number; seconds: number; cpu: { node: number; postgres: number; redis: number } }>;
  enqueueToCard(rate: number, count: number): Promise<{ latency: Latency; addLatency: Latency; loop: LoopDelay }>;
  /** Pending escalations with their cards posted and recorded, ready to be clicked. */
  pendingCards(count: number): Promise<PendingCard[]>;
  /** Closed loop: `concurrency` clickers, each clicking again as soon as its click is answered. */
  clickAck(
    cards: PendingCard[],
    concurrency: number,
  ): Promise<{ latency: Latency; loop: LoopDelay; perSec: number; cpu: { node: number; postgres: number; redis: number } }>;
  /**
   * Clicks at a steady rate; `latency`: click sent → callback received, `ack`: the
   * same clicks' HTTP responses, `cpu`: ms of this process's CPU per click.
   */
  clickToCallback(cards: PendingCard[], rate: number): Promise<{ latency: Latency; ack: Latency; loop: LoopDelay; cpu: number }>;
  /** Cards posted more than once for one escalation (must be 0). */
  duplicateCards(): number;
  /**
   * Between phases: drops the fake Slack's record of earlier calls and
   * messages (the heap, and so GC, would grow with every phase) and lets
   * the earlier phase's tail work drain.
   */
  settle(ms: number, opts?: { keepMessages?: boolean }): Promise<void>;
  sampleClickBody(): string;
}

export async function startBotBench(opts: { concurrency: number; config?: string }): Promise<BotBench> {
  const cb = await startCallbackReceiver();
  const h = await startHarness({
    config: opts.config ?? benchConfigText(),
    // `--prefetch=N` sets INTAKE_PREFETCH (default 1,000), to compare it against arrival order (`--prefetch=50`).
    env: { WORKER_CONCURRENCY: String(opts.concurrency), INTAKE_PREFETCH: String(numberFlag('prefetch', 1000)), WORKER_LOCK_MS: '30000', LOG_LEVEL: 'silent' },
  });

  const meter = await cpuMeter(h.sql, new URL(h.dbUrl).pathname.slice(1), h.redis);

  // Every postMessage, timestamped on arrival at the fake Slack (same process, same clock).
  const posted = new Map<string, number>();
  let duplicates = 0;
  let postedCount = 0;
  const watchPosts = () =>
    h.fake.onCall('chat.postMessage', (call: FakeCall) => {
      const id = (call.args.metadata as { event_payload?: { escalation_id?: string } } | undefined)?.event_payload?.escalation_id;
      if (!id) return;
      if (posted.has(id)) duplicates++;
      else {
        posted.set(id, now());
        postedCount++;
      }
    });
  watchPosts();

  const fresh = (): EscalationInput => makeEscalation({ callback: { url: cb.url } });
  const enqueueBulk = async (list: EscalationInput[]) => {
    for (let i = 0; i < list.length; i += 1000) {
      await h.queue.addBulk(list.slice(i, i + 1000).map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
    }
  };
  const cardsPostedInDb = async (ids: string[]): Promise<number> => {
    const [row] = await h.sql<{ n: number }[]>`
      select count(*)::int as n from events where type = 'card_posted' and escalation_id = any(${ids}::uuid[])`;
    return row?.n ?? 0;
  };
  /** Creates `n` pending escalations and returns their cards (ts and Approve button value). */
  const pendingWithCards = async (n: number): Promise<PendingCard[]> => {
    const list = Array.from({ length: n }, fresh);
    await enqueueBulk(list);
    await until(() => list.every((e) => posted.has(e.id)), `${n} cards`, 60_000, 10);
    await until(async () => (await cardsPostedInDb(list.map((e) => e.id))) === n, 'card_posted rows', 30_000, 20);
    const wanted = new Set(list.map((e) => e.id));
    const cards = new Map<string, Card>();
    for (const m of h.fake.messages(REFUNDS_CHANNEL)) {
      const id = m.metadata?.event_payload.escalation_id as string | undefined;
      if (!id || !wanted.has(id)) continue;
      const blocks = (m.blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value: string }> }>;
      const value = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === 'countersign.approve')?.value;
      if (value) cards.set(id, { ts: m.ts, value });
    }
    return list.map((e) => ({ id: e.id, card: cards.get(e.id)! }));
  };
  const clickBody = (card: Card) =>
    blockActionsBody(
      blockActionsPayload({ userId: APPROVER, channel: REFUNDS_CHANNEL, messageTs: card.ts, actionId: 'countersign.approve', value: card.value }),
    );
  /** A signed block_actions POST, as Slack sends it; resolves on the complete HTTP response. */
  const click = async (body: string): Promise<void> => {
    const status = await post(`${h.baseUrl}/slack/events`, body, {
      'content-type': 'application/x-www-form-urlencoded',
      ...signSlackRequest(SIGNING_SECRET, body),
    });
    if (status !== 200) throw new Error(`click answered ${status}`);
  };
  let sampleBody = '';
  const decisionsMade = async (ids: string[]) => {
    const [row] = await h.sql<{ n: number }[]>`
      select count(*)::int as n from events where type = 'decision_made' and escalation_id = any(${ids}::uuid[])`;
    return row?.n ?? 0;
  };

  return {
    h,
    duplicateCards: () => duplicates,
    async settle(ms, opts = {}) {
      await sleep(ms);
      // Cards about to be clicked must stay: their update needs the message.
      if (opts.keepMessages) return;
      h.fake.reset();
      watchPosts();
      posted.clear();
      postedCount = 0;
    },
    sampleClickBody: () => sampleBody,
    async close() {
      await h.close();
      await cb.close();
    },

    async intakeThroughput(n) {
      const list = Array.from({ length: n }, fresh);
      const ids = list.map((e) => e.id);
      const before = postedCount;
      const cpu0 = await meter.take();
      const t0 = now();
      await enqueueBulk(list);
      await until(() => postedCount - before >= n && ids.every((id) => posted.has(id)), `${n} chat.postMessage`, 120_000, 5);
      await until(async () => (await cardsPostedInDb(ids)) === n, `${n} card_posted rows`, 60_000, 5);
      const seconds = (now() - t0) / 1000;
      const cpu = meter.per(cpu0, await meter.take(), n);
      return { perSec: n / seconds, seconds, cpu };
    },

    async enqueueToCard(rate, count) {
      const list = Array.from({ length: count }, fresh);
      const started = new Map<string, number>();
      const addLats: number[] = [];
      const before = postedCount;
      const loop = watchLoop();
      await atRate(rate, count, async (i) => {
        const e = list[i]!;
        const t0 = now();
        started.set(e.id, t0);
        await h.queue.add('escalation', e, { jobId: e.id });
        addLats.push(now() - t0);
      });
      await until(() => postedCount - before >= count && list.every((e) => posted.has(e.id)), `${count} cards`, 30_000, 10);
      const loopDelay = loop();
      const lats = list.map((e) => posted.get(e.id)! - started.get(e.id)!);
      return { latency: latency(lats), addLatency: latency(addLats), loop: loopDelay };
    },

    pendingCards: pendingWithCards,

    async clickAck(items, concurrency) {
      const count = items.length;
      const bodies = items.map((x) => clickBody(x.card));
      sampleBody = bodies[0] ?? '';
      // The first few warm the receiver (Bolt checks the token with auth.test on its first event) and are not counted.
      const warm = Math.min(20, Math.floor(count / 10));
      for (const body of bodies.slice(0, warm)) await click(body);
      const lats: number[] = [];
      const cpu0 = await meter.take();
      const loop = watchLoop();
      const began = now();
      await withConcurrency(concurrency, bodies.length - warm, async (i) => {
        const t0 = now();
        await click(bodies[warm + i]!);
        lats.push(now() - t0);
      });
      const perSec = lats.length / ((now() - began) / 1000);
      const loopDelay = loop();
      // Let the decisions, card updates and callbacks these clicks set off finish before the next phase.
      const ids = items.map((x) => x.id);
      await until(async () => (await decisionsMade(ids)) === count, 'decisions', 30_000, 20);
      await until(() => ids.every((id) => cb.arrived.has(id)), 'callbacks after clicks', 30_000, 20);
      // Per click, from the first counted click until every callback arrived (the wait's polling included).
      const cpu = meter.per(cpu0, await meter.take(), lats.length);
      return { latency: latency(lats), loop: loopDelay, perSec, cpu };
    },

    async clickToCallback(items, rate) {
      const count = items.length;
      const bodies = items.map((x) => clickBody(x.card));
      const sent = new Map<string, number>();
      const loop = watchLoop();
      const cpu0 = process.cpuUsage();
      const acks: number[] = [];
      await atRate(rate, count, async (i) => {
        const t0 = now();
        sent.set(items[i]!.id, t0);
        await click(bodies[i]!);
        acks.push(now() - t0);
      });
      await until(() => items.every((x) => cb.arrived.has(x.id)), `${count} callbacks`, 30_000, 10);
      const loopDelay = loop();
      const cpu = process.cpuUsage(cpu0);
      if (cb.badSignatures() > 0) throw new Error(`${cb.badSignatures()} callbacks failed signature verification`);
      return {
        latency: latency(items.map((x) => cb.arrived.get(x.id)! - sent.get(x.id)!)),
        ack: latency(acks),
        loop: loopDelay,
        cpu: (cpu.user + cpu.system) / 1000 / count,
      };
    },
  };
}
