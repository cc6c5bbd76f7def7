import { and, eq, isNull, lte, notInArray, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { callbackDeliveries } from '../schema/callback-deliveries.js';
import { escalations } from '../schema/escalations.js';
import { eventParams, eventsAfter, type EventInput } from './events.js';
import { ph, prepared } from './prepared.js';

/**
 * Per-escalation claims ("leases") for the two steps whose effect lies outside
 * Postgres: posting the card and calling the agent back. BullMQ runs a job
 * twice at once when a worker's event loop stalls past the job's lock: it
 * takes the job for stalled and hands it out again while the first run is
 * still on it. Each step takes its claim with a guarded write first; the run
 * that finds it held waits until the claim lapses (a run that died holding it)
 * or the step is done (a run that is merely slow).
 *
 * Times are the flow's clock (`now`), on both sides of the comparison, so a
 * test's clock and the database's never mix.
 */

/**
 * How much longer than the job lock a claim holds (ms). A second run of the
 * job starts only once the lock has lapsed, so the claim must outlast the
 * lock; past it, the first run (if alive) has this long to finish a post or
 * callback already on the wire (10 s timeouts each) before the second run
 * looks for its effect. A crashed run's card or callback waits this much
 * longer than the lock before it is retried.
 */
export const LEASE_MARGIN_MS = 12_000;
/** The claim for the default job lock (WORKER_LOCK_MS, 30 s) (ms). */
export const LEASE_MS = 30_000 + LEASE_MARGIN_MS;
/** The claim for a given job lock (ms). */
export const leaseFor = (lockMs: number) => lockMs + LEASE_MARGIN_MS;

export type Claim = { kind: 'claimed'; until: Date } | { kind: 'held'; untilMs: number } | { kind: 'done' };

/**
 * A claim must cover a post from its start to its end: the Slack call's
 * timeout (10 s, src/slack/web-port.ts) plus LEASE_MARGIN_MS (ms). A run
 * whose claim has less left renews it just before it posts.
 */
export const POST_WINDOW_MS = 10_000 + LEASE_MARGIN_MS;

/**
 * Claims the card post: card state `posting` with a lease, unless the card is
 * recorded (`done`) or another run's lease has not lapsed (`held`).
 */
export async function claimCardPost(db: DbOrTx, id: string, now: Date, leaseMs = LEASE_MS): Promise<Claim> {
  const until = new Date(now.getTime() + leaseMs);
  const rows = await db
    .update(escalations)
    .set({ cardState: 'posting', cardLeaseUntil: until })
    // `none`: nothing posted and nobody posting (a holder that stops without posting says so), whatever lease is left.
    // Never a card in its channel's digest (src/flow/channel-digest.ts): it is shown there, not posted.
    .where(and(eq(escalations.id, id), notInArray(escalations.cardState, ['posted', 'digest']), or(eq(escalations.cardState, 'none'), isNull(escalations.cardLeaseUntil), lte(escalations.cardLeaseUntil, now))))
    .returning({ id: escalations.id });
  if (rows.length > 0) return { kind: 'claimed', until };
  return cardHeldOrDone(db, id);
}

/**
 * Extends this run's card claim to `until`, only if the claim is still the one
 * it took (`held`): false means another run took it over meanwhile (this run
 * stalled past it), and this run must not post.
 */
export async function renewCardPost(db: DbOrTx, id: string, held: Date, until: Date): Promise<boolean> {
  const rows = await db
    .update(escalations)
    .set({ cardLeaseUntil: until })
    .where(and(eq(escalations.id, id), eq(escalations.cardState, 'posting'), eq(escalations.cardLeaseUntil, held)))
    .returning({ id: escalations.id });
  return rows.length > 0;
}

/** Gives the card claim back: nothing was posted (a pacer wait, a 429, a definite refusal). */
export async function releaseCardPost(db: DbOrTx, id: string): Promise<void> {
  await db
    .update(escalations)
    .set({ cardState: 'none', cardLeaseUntil: null })
    .where(and(eq(escalations.id, id), notInArray(escalations.cardState, ['posted', 'digest'])));
}

/**
 * Ends this run's claim but keeps the "maybe posted" marker: its post failed with an unknown
 * outcome. `until`: the claim holds until then instead (a post with no answer may still land).
 */
export async function releaseCardLease(db: DbOrTx, id: string, until: Date | null = null): Promise<void> {
  await db.update(escalations).set({ cardLeaseUntil: until }).where(eq(escalations.id, id));
}

export type CallbackKind = 'decision' | 'review';

/**
 * Claims the `kind` callback of an escalation, unless it was delivered
 * (`done`) or another run's claim has not lapsed (`held`). One statement: the
 * first claim inserts the row, a later one takes it over only if free.
 */
export async function claimCallback(db: DbOrTx, id: string, kind: CallbackKind, now: Date, leaseMs = LEASE_MS): Promise<Claim> {
  const until = new Date(now.getTime() + leaseMs);
  const claim = prepared(db, 'claimCallback', () => {
    const lease = sql`${ph('until')}::timestamptz`;
    return db
      .insert(callbackDeliveries)
      .values({ escalationId: sql`${ph('id')}::uuid`, kind: sql`${ph('kind')}::text`, leaseUntil: lease })
      .onConflictDoUpdate({
        target: [callbackDeliveries.escalationId, callbackDeliveries.kind],
        set: { leaseUntil: lease },
        setWhere: and(isNull(callbackDeliveries.deliveredAt), or(isNull(callbackDeliveries.leaseUntil), lte(callbackDeliveries.leaseUntil, sql`${ph('now')}::timestamptz`))),
      })
      .returning({ id: callbackDeliveries.escalationId })
      .prepare('claim_callback');
  });
  const rows = await claim.execute({ id, kind, until: until.toISOString(), now: now.toISOString() });
  if (rows.length > 0) return { kind: 'claimed', until };
  const [row] = await db
    .select({ leaseUntil: callbackDeliveries.leaseUntil, deliveredAt: callbackDeliveries.deliveredAt })
    .from(callbackDeliveries)
    .where(and(eq(callbackDeliveries.escalationId, id), eq(callbackDeliveries.kind, kind)));
  return !row || row.deliveredAt ? { kind: 'done' } : { kind: 'held', untilMs: row.leaseUntil?.getTime() ?? 0 };
}

/** Gives the callback claim back after a failed try, so its retry need not wait for the lease. */
export async function releaseCallback(db: DbOrTx, id: string, kind: CallbackKind): Promise<void> {
  await db
    .update(callbackDeliveries)
    .set({ leaseUntil: null })
    .where(and(eq(callbackDeliveries.escalationId, id), eq(callbackDeliveries.kind, kind), isNull(callbackDeliveries.deliveredAt)));
}

/** Marks the callback delivered and records its event, in one statement: both or neither, once. */
export async function markCallbackDelivered(db: DbOrTx, id: string, kind: CallbackKind, now: Date, event: EventInput): Promise<void> {
  const mark = prepared(db, 'markCallbackDelivered', () => {
    const upd = db.$with('upd').as(
      db
        .update(callbackDeliveries)
        .set({ deliveredAt: sql`${ph('now')}::timestamptz`, leaseUntil: null })
        .where(and(eq(callbackDeliveries.escalationId, sql`${ph('id')}::uuid`), eq(callbackDeliveries.kind, sql`${ph('kind')}::text`), isNull(callbackDeliveries.deliveredAt)))
        .returning({ id: callbackDeliveries.escalationId }),
    );
    return db.with(upd, eventsAfter('ev', upd, 1)).select().from(upd).prepare('mark_callback_delivered');
  });
  await mark.execute({ id, kind, now: now.toISOString(), ...eventParams([event]) });
}

async function cardHeldOrDone(db: DbOrTx, id: string): Promise<Claim> {
  const [row] = await db.select({ cardState: escalations.cardState, leaseUntil: escalations.cardLeaseUntil }).from(escalations).where(eq(escalations.id, id));
  // No row: nothing to post.
  if (!row || row.cardState === 'posted' || row.cardState === 'digest') return { kind: 'done' };
  return { kind: 'held', untilMs: row.leaseUntil?.getTime() ?? 0 };
}
