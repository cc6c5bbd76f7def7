/**
 * The tally of one case, counted from the three places that hold the truth of
 * what happened: Postgres (escalation rows and their events), the fake Slack
 * (cards it stored) and the callback sink (callbacks it answered 204).
 */
import type { ChaosWorld } from './world.js';

/** What a case owes, by escalation id. */
export interface Owed {
  /** Every escalation the case sent. Each is owed a row, and a card or a card_post_failed record. */
  ids: readonly string[];
  /** Clicked: owed a decision (a click without an answer is repeated until it gets one). */
  clicked?: readonly string[];
  /** Clicks answered 200: owed a recorded decision_made (acknowledged = recorded). */
  acknowledged?: readonly string[];
  /** Owed a fail-safe expiry. */
  expiring?: readonly string[];
}

export interface Tally {
  escalations: number;
  /**
   * Owed and never seen by the end of the wait: a row for an escalation no
   * longer in the queue, an acknowledged click's decision_made, a decided
   * escalation's callback.
   */
  lost: number;
  duplicated: { cards: number; decisions: number; callbacks: number };
  /**
   * Still owed when the wait ended, counted once per escalation: still queued
   * without a row, no card (nor card_post_failed), pending past its deadline,
   * clicked (the click never answered 200) but undecided, not expired.
   */
  stuck: number;
  /** The first few ids of each kind of shortfall, for the log. */
  details: string[];
}

const DECIDED = new Set(['approved', 'denied', 'expired']);

export async function tally(w: ChaosWorld, owed: Owed): Promise<Tally> {
  const { sql } = w.world;
  const ids = [...owed.ids];
  const rows = await sql<{ id: string; status: string; fail_safe: boolean; overdue: boolean }[]>`
    select id, status, fail_safe, coalesce(deadline < now(), false) as overdue from escalations where id = any(${ids})`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  const events = await sql<{ id: string; type: string; n: number }[]>`
    select escalation_id as id, type, count(*)::int as n from events
    where escalation_id = any(${ids}) and type in ('card_posted', 'card_post_failed', 'decision_made', 'expired')
    group by escalation_id, type`;
  const eventCounts = new Map(events.map((e) => [`${e.id}:${e.type}`, e.n]));
  const ev = (id: string, type: string) => eventCounts.get(`${id}:${type}`) ?? 0;
  const callbacks = new Map<string, number>();
  for (const c of w.sink.received) callbacks.set(String(c.json.escalationId), (callbacks.get(String(c.json.escalationId)) ?? 0) + 1);

  const cards = w.cards();

  const shortfalls = new Map<string, string[]>();
  const note = (kind: string, id: string) => shortfalls.set(kind, [...(shortfalls.get(kind) ?? []), id]);
  const dup = { cards: 0, decisions: 0, callbacks: 0 };
  for (const id of ids) {
    const row = byId.get(id);
    if (!row) {
      // Still queued (waiting, delayed or active) is late; gone from the queue without a row is lost.
      const state = await w.world.queue.getJobState(id).catch(() => 'unknown');
      note(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children'].includes(state) ? 'stuck: still queued, no row' : 'lost: no row', id);
      continue;
    }
    const carded = cards.get(id)?.length ?? 0;
    dup.cards += Math.max(0, carded - 1, ev(id, 'card_posted') - 1);
    if (carded > 1) note(`duplicated: ${carded} cards in Slack`, id);
    if (ev(id, 'card_posted') > 1) note(`duplicated: ${ev(id, 'card_posted')} card_posted events`, id);
    const decisions = ev(id, 'decision_made') + ev(id, 'expired');
    dup.decisions += Math.max(0, decisions - 1);
    if (decisions > 1) note('duplicated: decisions', id);
    const told = callbacks.get(id) ?? 0;
    dup.callbacks += Math.max(0, told - 1);
    if (told > 1) note('duplicated: callbacks', id);
    if (carded === 0 && ev(id, 'card_post_failed') === 0) note('stuck: no card', id);
    if (row.status === 'pending' && row.overdue) note('stuck: pending past deadline', id);
    if (DECIDED.has(row.status) && told === 0) note('lost: no callback', id);
  }
  const statusOf = (id: string) => byId.get(id)?.status;
  for (const id of owed.acknowledged ?? []) if (ev(id, 'decision_made') === 0) note('lost: acknowledged click unrecorded', id);
  const acknowledged = new Set(owed.acknowledged ?? []);
  for (const id of owed.clicked ?? []) if (!acknowledged.has(id) && !DECIDED.has(statusOf(id) ?? '')) note('stuck: clicked, undecided', id);
  for (const id of owed.expiring ?? []) if (!(statusOf(id) === 'expired' && byId.get(id)?.fail_safe)) note('stuck: not expired fail-safe', id);

  // Escalations, not shortfalls: one id short in two ways counts once.
  const count = (prefix: string) => new Set([...shortfalls].filter(([k]) => k.startsWith(prefix)).flatMap(([, v]) => v)).size;
  return {
    escalations: ids.length,
    lost: count('lost'),
    duplicated: dup,
    stuck: count('stuck'),
    details: [...shortfalls].map(([k, v]) => `${k}: ${v.length} (e.g. ${v.slice(0, 3).join(', ')})`),
  };
}

/** After everything owed arrived, how long to watch for a late duplicate (a second card, decision or callback) (ms). */
const DUPLICATE_GRACE_MS = 3_000;

/**
 * Waits (bounded) until nothing owed is missing, watches a little longer for
 * late duplicates, then tallies; a tally with shortfalls when the time ran out.
 */
export async function settle(w: ChaosWorld, owed: Owed, timeoutMs: number): Promise<Tally> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const t = await tally(w, owed);
    if (Date.now() > end) return t;
    if (t.lost === 0 && t.stuck === 0) {
      await new Promise((r) => setTimeout(r, DUPLICATE_GRACE_MS));
      return tally(w, owed);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The ids among `ids` with no decision_made event: acknowledged clicks Postgres does not hold. */
export async function unrecorded(w: ChaosWorld, ids: readonly string[]): Promise<string[]> {
  const rows = await w.world.sql<{ id: string }[]>`
    select distinct escalation_id as id from events where type = 'decision_made' and escalation_id = any(${[...ids]})`;
  const recorded = new Set(rows.map((r) => r.id));
  return ids.filter((id) => !recorded.has(id));
}
