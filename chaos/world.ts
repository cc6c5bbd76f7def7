/**
 * What every chaos case shares: the bot as separate OS processes (the tests'
 * child-bot world: fake Slack, a fresh Postgres database, a unique Redis
 * prefix), a callback sink, signed clicks, and the tally of what went out.
 * Everything listens on loopback; every wait is bounded.
 */
import type { EscalationInput } from '../src/domain/escalation.js';
import { startCallbackServer } from '../test/support/callback-server.js';
import { spawnBot, startChildBotWorld, type ChildBot, type ChildBotWorld } from '../test/support/child-bot.js';
import type { StoredMessage } from '../test/support/fake-slack.js';
import { APPROVER, CALLBACK_SECRET, GENERAL_CHANNEL, REFUNDS_CHANNEL, SIGNING_SECRET, exampleConfigText, makeEscalation } from '../test/support/harness.js';
import { blockActionsBody, blockActionsPayload, postSigned } from '../test/support/slack-signing.js';

/** Slack's per-channel pace lifted, as in the crash tests: the cases are about losses and duplicates, not pacing. */
// Slack's pace lifted, and the channel digest off: the cases count each escalation's own card (and click it),
// so a storm's held-back cards must not go into a digest (its exactly-once is tested in test/flow/channel-digest.test.ts).
export const CHAOS_CONFIG = exampleConfigText
  .replace('postsPerSecondPerChannel: 1', 'postsPerSecondPerChannel: 1000')
  .replace('postBurst: 3', 'postBurst: 1000')
  .replace('  # digest: { backlog: 20, updateSeconds: 10 }', '  digest: { backlog: 0 }');

/** Channels the example config routes cards to (refund → refunds, anything else here → general). */
const CARD_CHANNELS = [REFUNDS_CHANNEL, GENERAL_CHANNEL];

/** A card as Slack stores it, and where. */
export interface Card {
  channel: string;
  m: StoredMessage;
}

export type Sink = Awaited<ReturnType<typeof startCallbackServer>>;

export interface ChaosWorld {
  world: ChildBotWorld;
  sink: Sink;
  /** A bot process on this world (env overrides merged), killed at close. */
  bot(extra?: Record<string, string>): Promise<ChildBot>;
  /** `n` escalations alternating between the two card channels, each calling back to the sink. */
  escalations(n: number, overrides?: Partial<EscalationInput>): EscalationInput[];
  enqueue(batch: EscalationInput[]): Promise<void>;
  /** The bots' log lines at error level or above (pino level ≥ 50): their count and the first few messages. */
  botErrors(): { count: number; samples: string[] };
  /** The cards Slack holds, with their channels, by escalation id (one pass over the channels: call it once per round, not per id). */
  cards(): Map<string, Card[]>;
  close(): Promise<void>;
}

export async function startChaosWorld(opts: { env?: Record<string, string>; config?: string } = {}): Promise<ChaosWorld> {
  const world = await startChildBotWorld({ config: opts.config ?? CHAOS_CONFIG, env: { CALLBACK_SIGNING_SECRET: CALLBACK_SECRET, ...opts.env } });
  const sink = await startCallbackServer();
  const procs: ChildBot[] = [];
  /** Bots still starting: close waits for them, so none is left running. */
  const spawning = new Set<Promise<ChildBot>>();
  let closed = false;
  return {
    world,
    sink,
    async bot(extra = {}) {
      // A case cut off by its time limit runs on in the background: it starts nothing once its world is gone.
      if (closed) throw new Error('the world is closed');
      const starting = spawnBot({ ...world.env, ...extra });
      spawning.add(starting);
      try {
        const b = await starting;
        procs.push(b);
        return b;
      } finally {
        spawning.delete(starting);
      }
    },
    escalations: (n, overrides = {}) =>
      Array.from({ length: n }, (_, i) => makeEscalation({ issueType: i % 2 ? 'refund' : 'general', callback: { url: sink.url }, ...overrides })),
    async enqueue(batch) {
      // addBulk in slices: one Redis pipeline of 1,000 full escalations is a large single write.
      for (let i = 0; i < batch.length; i += 200) {
        await world.queue.addBulk(batch.slice(i, i + 200).map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
      }
    },
    botErrors() {
      const lines = procs.flatMap((p) => p.output().split('\n')).filter((l) => /"level":(5|6)\d/.test(l));
      const msgs = lines.map((l) => {
        try {
          const j = JSON.parse(l) as { msg?: string; err?: unknown };
          const err = j.err === undefined ? '' : ` (${(typeof j.err === 'string' ? j.err : JSON.stringify(j.err)).slice(0, 120)})`;
          return `${j.msg ?? ''}${err}`;
        } catch {
          return l.slice(0, 160);
        }
      });
      return { count: lines.length, samples: [...new Set(msgs)].slice(0, 3) };
    },
    cards() {
      const byId = new Map<string, Card[]>();
      for (const channel of CARD_CHANNELS) {
        for (const m of world.fake.messages(channel)) {
          const id = m.metadata?.event_payload.escalation_id;
          if (typeof id === 'string') byId.set(id, [...(byId.get(id) ?? []), { channel, m }]);
        }
      }
      return byId;
    },
    async close() {
      closed = true;
      await Promise.allSettled([...spawning]);
      for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.exited.catch(() => null)));
      await sink.close();
      await world.close();
    },
  };
}

/**
 * The signed Approve click on a card, as Slack sends it; undefined when the
 * card has no Approve button any more (decided and updated: nobody can click it).
 */
export function approveBody(card: Card): string | undefined {
  const blocks = (card.m.blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value: string }> }>;
  const button = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === 'countersign.approve');
  if (!button) return undefined;
  return blockActionsBody(blockActionsPayload({ userId: APPROVER, channel: card.channel, messageTs: card.m.ts, actionId: 'countersign.approve', value: button.value }));
}

/** Signed clicks POSTed since the last reset (the runner resets it per case): the row's `clicks`. */
export const sent = { clicks: 0 };

/** POSTs a click to a bot; the HTTP status, or 0 when no answer came (the process died, the socket closed). */
export async function sendClick(bot: ChildBot, body: string, headers?: Record<string, string>): Promise<number> {
  sent.clicks++;
  try {
    const res = await postSigned(`http://127.0.0.1:${bot.port}/slack/events`, SIGNING_SECRET, body, 'application/x-www-form-urlencoded', { headers });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Runs `fn` over `items` with `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i]!, i);
    }),
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `done` every 250 ms until it holds or `timeoutMs` passes; false on timeout (the case then reports what is left). */
export async function until(done: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > end) return false;
    await sleep(250);
  }
}
