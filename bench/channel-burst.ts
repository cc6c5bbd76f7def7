/**
 * Issue 16 §2, a burst into one channel: 1,000 cards into one channel at
 * Slack's real pace (1 post a second per channel, a burst of 3; the fake
 * Slack itself answers at once), while a second channel gets a steady
 * trickle. Run alone: `npx tsx bench/channel-burst.ts [--quick]`.
 *
 * Three rounds, each with its own bot, database and Redis prefix:
 * 1. the trickle alone (the other channel's latency with no burst);
 * 2. the burst with the digest (`slack.digest.backlog` 20, the default):
 *    time until every one of the 1,000 is visible to an approver, in App Home
 *    (joined the digest, or its card posted) and in the channel (its card,
 *    or a digest message posted or updated after it joined);
 * 3. the burst without the digest (`backlog: 0`), capped: at 1 post a second
 *    the 1,000 would take about 17 minutes, so it runs for a fixed window and
 *    the time for 1,000 is extrapolated from the cards posted in it.
 * The trickle's latency is enqueue → its card's chat.postMessage at the fake,
 * while the burst's intake runs (its jobs share the escalations queue; intake
 * serves the channels in turn, src/queue/fair-gate.ts) and after it (the
 * burst's cards digested, or waiting).
 */
import { parse, stringify } from 'yaml';
import type { EscalationInput } from '../src/domain/escalation.js';
import type { FakeCall } from '../test/support/fake-slack.js';
import { GENERAL_CHANNEL, REFUNDS_CHANNEL, exampleConfigText, makeEscalation, startHarness, type Harness } from '../test/support/harness.js';
import { markdownTable, numberFlag, runBench, type Row } from './run.js';
import { latency, lat, sleep, until, type Latency } from './stats.js';

const BURST = 1000;
/** The other channel's steady trickle: below its pace, so with no burst its cards never wait. */
const TRICKLE_PER_SEC = 0.8;
/** `--prefetch=N`: INTAKE_PREFETCH (default 1,000); `--prefetch=50` (= WORKER_CONCURRENCY) takes jobs in arrival order, as before the fair gate. */
const PREFETCH = numberFlag('prefetch', 1000);

function configText(backlog: number): string {
  const doc = parse(exampleConfigText) as { slack: Record<string, unknown> };
  doc.slack = { ...doc.slack, postsPerSecondPerChannel: 1, postBurst: 3, digest: { backlog, updateSeconds: 10 } };
  return stringify(doc);
}

const idOf = (c: FakeCall) => (c.args.metadata as { event_payload?: { escalation_id?: string } } | undefined)?.event_payload?.escalation_id;

interface Round {
  h: Harness;
  /** Card posts by escalation id (Date.now() at the fake). */
  posted: Map<string, number>;
  digestCalls: FakeCall[];
  updates: () => number;
  close(): Promise<void>;
}

async function startRound(backlog: number, concurrency: number): Promise<Round> {
  const h = await startHarness({ config: configText(backlog), env: { WORKER_CONCURRENCY: String(concurrency), INTAKE_PREFETCH: String(PREFETCH), WORKER_LOCK_MS: '30000', LOG_LEVEL: 'silent' } });
  const posted = new Map<string, number>();
  const digestCalls: FakeCall[] = [];
  let updates = 0;
  h.fake.onCall('chat.postMessage', (c) => {
    const id = idOf(c);
    if (id) posted.set(id, c.at);
    else if (c.args.channel === REFUNDS_CHANNEL && !c.args.thread_ts) digestCalls.push(c);
  });
  h.fake.onCall('chat.update', (c) => {
    if (c.args.channel !== REFUNDS_CHANNEL) return;
    updates++;
    digestCalls.push(c);
  });
  return { h, posted, digestCalls, updates: () => updates, close: () => h.close() };
}

/** The other channel's trickle for `seconds`: each card's enqueue → post latency (ms). */
async function trickle(r: Round, seconds: number): Promise<Latency> {
  const sent: Array<{ id: string; at: number }> = [];
  const count = Math.max(1, Math.floor(seconds * TRICKLE_PER_SEC));
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    const wait = t0 + (i * 1000) / TRICKLE_PER_SEC - Date.now();
    if (wait > 0) await sleep(wait);
    const e = makeEscalation({ issueType: 'other', labels: {} });
    const at = Date.now();
    await r.h.enqueue(e);
    sent.push({ id: e.id, at });
  }
  await until(() => sent.every((s) => r.posted.has(s.id)), 'the trickle’s cards', 120_000, 50);
  return latency(sent.map((s) => r.posted.get(s.id)! - s.at));
}

async function enqueueBurst(h: Harness): Promise<{ ids: string[]; at: number }> {
  const list: EscalationInput[] = Array.from({ length: BURST }, () => makeEscalation());
  const at = Date.now();
  await h.queue.addBulk(list.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
  return { ids: list.map((e) => e.id), at };
}

const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Until every escalation of the burst is recorded (its intake done, whatever became of its card). */
async function intakeDone(h: Harness, ids: string[]): Promise<void> {
  await until(async () => (await h.sql`select count(*)::int as n from escalations where id = any(${ids}::uuid[])`)[0]!.n === ids.length, 'the burst’s intake', 300_000, 100);
}

async function main(quick: boolean, concurrency: number, log: (m: string) => void): Promise<Row[]> {
  const trickleSec = quick ? 15 : 30;
  const capSec = quick ? 30 : 60;
  const rows: Row[] = [];

  log(`round 1: the other channel's trickle alone, ${TRICKLE_PER_SEC}/s for ${trickleSec} s`);
  let r = await startRound(20, concurrency);
  const alone = await trickle(r, trickleSec).finally(() => r.close());

  log(`round 2: ${BURST} cards into ${REFUNDS_CHANNEL} with the digest (backlog 20), the trickle beside them`);
  r = await startRound(20, concurrency);
  let withDigest: { appHome: number; channel: number; cards: number; members: number; posts: number; updates: number; during: Latency; after: Latency; intake: number };
  try {
    const burst = await enqueueBurst(r.h);
    const during = trickle(r, trickleSec);
    await intakeDone(r.h, burst.ids);
    const intake = Date.now() - burst.at;
    await until(
      async () => (await r.h.sql`select count(*)::int as n from escalations where id = any(${burst.ids}::uuid[]) and card_state in ('posted', 'digest')`)[0]!.n === BURST,
      'every card of the burst posted or in the digest',
      300_000,
      100,
    );
    const joins = await r.h.sql<Array<{ id: string; at: Date }>>`select escalation_id::text as id, at from events where type = 'card_digested' and escalation_id = any(${burst.ids}::uuid[])`;
    const joinedAt = new Map(joins.map((j) => [j.id, j.at.getTime()]));
    // In the channel: its own card, or the first digest post or update after it joined.
    await until(() => joins.every((j) => r.digestCalls.some((c) => c.at >= j.at.getTime())), 'a digest message showing every member', 120_000, 100);
    const inChannel = burst.ids.map((id) => r.posted.get(id) ?? r.digestCalls.find((c) => c.at >= joinedAt.get(id)!)!.at);
    const inHome = burst.ids.map((id) => r.posted.get(id) ?? joinedAt.get(id)!);
    const trickled = await during;
    log('round 2: the trickle again, after the burst’s intake');
    const after = await trickle(r, trickleSec);
    withDigest = {
      intake,
      after,
      appHome: Math.max(...inHome) - burst.at,
      channel: Math.max(...inChannel) - burst.at,
      cards: burst.ids.filter((id) => r.posted.has(id)).length,
      members: joins.length,
      posts: r.digestCalls.filter((c) => c.method === 'chat.postMessage').length,
      updates: r.updates(),
      during: trickled,
    };
  } finally {
    await r.close();
  }

  log(`round 3: ${BURST} cards into ${REFUNDS_CHANNEL} without the digest, capped at ${capSec} s, the trickle beside them`);
  r = await startRound(0, concurrency);
  let without: { posted: number; window: number; during: Latency; after: Latency; intake: number };
  try {
    const burst = await enqueueBurst(r.h);
    const duringP = trickle(r, trickleSec);
    await intakeDone(r.h, burst.ids);
    const intake = Date.now() - burst.at;
    const during = await duringP;
    log('round 3: the trickle again, after the burst’s intake (its cards still waiting for their pace)');
    const after = await trickle(r, trickleSec);
    const rest = burst.at + capSec * 1000 - Date.now();
    if (rest > 0) await sleep(rest);
    const window = Date.now() - burst.at;
    without = { posted: burst.ids.filter((id) => r.posted.has(id)).length, window, during, after, intake };
  } finally {
    await r.close();
  }

  const rate = without.posted / (without.window / 1000);
  rows.push(
    { metric: 'other channel, no burst: enqueue → card', figure: `${lat(alone)} (n ${alone.n})`, goal: '—', baseline: `${TRICKLE_PER_SEC}/s into ${GENERAL_CHANNEL}`, pass: undefined },
    {
      metric: `with the digest: every one of ${BURST} visible in App Home (joined, or its card)`,
      figure: sec(withDigest.appHome),
      goal: '—',
      baseline: `${withDigest.cards} cards posted, ${withDigest.members} in the digest`,
      pass: undefined,
    },
    {
      metric: `with the digest: every one of ${BURST} visible in the channel (its card, or a digest message after it joined)`,
      figure: sec(withDigest.channel),
      goal: `well under the ${sec((BURST / 1) * 1000)} of one post a second`,
      baseline: 'digest updated every 10 s',
      pass: withDigest.channel < 60_000,
    },
    { metric: 'digest messages posted', figure: String(withDigest.posts), goal: '1', baseline: '—', pass: withDigest.posts === 1 },
    { metric: 'chat.update calls on the digest', figure: String(withDigest.updates), goal: '—', baseline: 'every 10 s while it would change', pass: undefined },
    {
      metric: 'other channel while the burst’s intake runs, with the digest: enqueue → card',
      figure: `${lat(withDigest.during)} (n ${withDigest.during.n})`,
      goal: '—',
      baseline: `intake of the ${BURST} took ${sec(withDigest.intake)}; INTAKE_PREFETCH ${PREFETCH}`,
      pass: undefined,
    },
    {
      metric: 'other channel after the burst’s intake, with the digest: enqueue → card',
      figure: `${lat(withDigest.after)} (n ${withDigest.after.n})`,
      goal: 'not delayed (p99 ≤ 2× no burst + 1 s)',
      baseline: lat(alone),
      pass: withDigest.after.p99 <= 2 * alone.p99 + 1000,
    },
    {
      metric: `without the digest: cards posted in the first ${sec(without.window)}`,
      figure: `${without.posted} (${rate.toFixed(2)}/s)`,
      goal: '—',
      baseline: `${BURST} extrapolated: ${sec((BURST / rate) * 1000)}`,
      pass: undefined,
    },
    {
      metric: 'other channel while the burst’s intake runs, without the digest: enqueue → card',
      figure: `${lat(without.during)} (n ${without.during.n})`,
      goal: '—',
      baseline: `intake of the ${BURST} took ${sec(without.intake)}`,
      pass: undefined,
    },
    {
      metric: 'other channel after the burst’s intake, without the digest (its cards waiting): enqueue → card',
      figure: `${lat(without.after)} (n ${without.after.n})`,
      goal: '—',
      baseline: lat(alone),
      pass: undefined,
    },
  );
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
  runBench(async () => {
    const rows = await main(quick, numberFlag('concurrency', 50), log);
    process.stdout.write(`\n${markdownTable(rows).join('\n')}\n`);
  });
}
