import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { delegations, type DelegationRow } from '../schema/delegations.js';
import { recordEvents, type EventInput } from './events.js';
import { sharedReads } from './shared-read.js';

/** In force at `now`: not ended, not revoked, started, not yet past its end. */
const inForce = (now: Date) =>
  and(isNull(delegations.endedAt), isNull(delegations.revokedAt), lte(delegations.startsAt, now), gt(delegations.endsAt, now));

/** Delegations in force at `now` from any of `delegators`: whom their pages go to. */
export async function delegationsFrom(db: DbOrTx, delegators: readonly string[], now: Date): Promise<DelegationRow[]> {
  if (delegators.length === 0) return [];
  return db.select().from(delegations).where(and(inArray(delegations.delegator, [...delegators]), inForce(now))).orderBy(asc(delegations.startsAt));
}

/** In force at `now`, checked in process on a row read for an earlier instant. */
const inForceAt = (d: DelegationRow, now: Date): boolean =>
  d.endedAt === null && d.revokedAt === null && d.startsAt.getTime() <= now.getTime() && d.endsAt.getTime() > now.getTime();

const shared = sharedReads<DelegationRow[]>();

/**
 * delegationsFrom with one statement shared by concurrent callers asking
 * about the same people (shared-read.ts): every card of a burst on an on-call
 * route pages the same person, and each would otherwise cost Postgres a read
 * of its own. A caller that joins a read on its way keeps the rows in force
 * at its own `now`. A delegation set or revoked in this process is seen by
 * every read started after its commit.
 */
export function delegationsFromShared(db: DbOrTx, delegators: readonly string[], now: Date): Promise<DelegationRow[]> {
  if (delegators.length === 0) return Promise.resolve([]);
  const people = [...new Set(delegators)].sort();
  const rows = shared.read(db, people.join('\n'), () => delegationsFrom(db, people, now));
  return rows.then((list) => list.filter((d) => inForceAt(d, now)));
}

/** Delegations in force at `now` to `delegate`: whom they may decide for. */
export async function delegationsTo(db: DbOrTx, delegate: string, now: Date): Promise<DelegationRow[]> {
  return db.select().from(delegations).where(and(eq(delegations.delegate, delegate), inForce(now))).orderBy(asc(delegations.startsAt));
}

/** In force at `now`, from or to `user`: what `/countersign delegate` lists. */
export async function delegationsOf(db: DbOrTx, user: string, now: Date): Promise<DelegationRow[]> {
  return db
    .select()
    .from(delegations)
    .where(and(or(eq(delegations.delegator, user), eq(delegations.delegate, user)), inForce(now)))
    .orderBy(asc(delegations.startsAt));
}

export interface NewDelegation {
  delegator: string;
  delegate: string;
  startsAt: Date;
  endsAt: Date;
  until: string;
  timezone: string;
}

const setEvent = (d: DelegationRow): EventInput => ({
  type: 'delegation_set',
  actor: d.delegator,
  data: { id: d.id, delegator: d.delegator, delegate: d.delegate, from: d.startsAt.toISOString(), to: d.endsAt.toISOString(), until: d.until, timezone: d.timezone },
});

const endedEvent = (d: DelegationRow, reason: 'revoked' | 'replaced' | 'lapsed', actor: string): EventInput => ({
  type: 'delegation_ended',
  actor,
  data: { id: d.id, delegator: d.delegator, delegate: d.delegate, reason, to: d.endsAt.toISOString(), endedAt: (d.endedAt ?? d.endsAt).toISOString() },
});

/**
 * Revokes `delegator`'s delegations still open at `now` (set `revoked_at` and
 * `ended_at` once, guarded on both being null), each with its
 * `delegation_ended` event, in the caller's transaction.
 */
async function revokeOpen(tx: DbOrTx, delegator: string, by: string, now: Date, reason: 'revoked' | 'replaced'): Promise<DelegationRow[]> {
  const ended = await tx
    .update(delegations)
    .set({ revokedAt: now, revokedBy: by, endedAt: now })
    .where(and(eq(delegations.delegator, delegator), isNull(delegations.endedAt), isNull(delegations.revokedAt), gt(delegations.endsAt, now)))
    .returning();
  await recordEvents(tx, ended.map((d) => endedEvent(d, reason, by)));
  return ended;
}

/**
 * A new delegation and its `delegation_set` event, in one transaction that
 * first ends the delegator's open one (`replaced`): one delegate at a time.
 * Concurrent sets by one person are serialised by an advisory lock on them.
 */
export async function setDelegation(db: DbOrTx, d: NewDelegation): Promise<{ row: DelegationRow; replaced: DelegationRow[] }> {
  const set = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`delegation:${d.delegator}`}))`);
    const replaced = await revokeOpen(tx, d.delegator, d.delegator, d.startsAt, 'replaced');
    const [row] = await tx.insert(delegations).values(d).returning();
    await recordEvents(tx, [setEvent(row!)]);
    return { row: row!, replaced };
  });
  shared.forget(db);
  return set;
}

/** `/countersign delegate off`: the caller's open delegations end now, recorded. */
export async function revokeDelegations(db: DbOrTx, delegator: string, now: Date): Promise<DelegationRow[]> {
  const revoked = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`delegation:${delegator}`}))`);
    return revokeOpen(tx, delegator, delegator, now, 'revoked');
  });
  shared.forget(db);
  return revoked;
}

/**
 * Delegations past their end date not yet recorded as ended: `ended_at` set
 * once (guarded), with a `delegation_ended` event (`lapsed`) each, in one
 * transaction. Run by the maintenance sweep; authorization never waits for
 * it (a delegation past `ends_at` is out of force at once).
 */
export async function endLapsedDelegations(db: DbOrTx, now: Date, limit = 500): Promise<number> {
  return db.transaction(async (tx) => {
    const due = tx
      .select({ id: delegations.id })
      .from(delegations)
      .where(and(isNull(delegations.endedAt), lte(delegations.endsAt, now)))
      .limit(limit);
    const ended = await tx
      .update(delegations)
      .set({ endedAt: sql`${delegations.endsAt}` })
      .where(and(inArray(delegations.id, due), isNull(delegations.endedAt)))
      .returning();
    await recordEvents(tx, ended.map((d) => endedEvent(d, 'lapsed', 'system')));
    return ended.length;
  });
}
