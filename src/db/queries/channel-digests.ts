import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { channelDigests, type ChannelDigestRow } from '../schema/channel-digests.js';
import { escalations } from '../schema/escalations.js';
import { events } from '../schema/events.js';
import type { EventInput } from './events.js';
import { rowsOf } from './agent-modes.js';

/**
 * A burst into one channel (src/flow/channel-digest.ts). Every write that
 * decides where a card goes is one guarded statement, so concurrent workers
 * and replicas agree: one open digest per channel (the partial unique index),
 * an escalation joins it only from `none` (or a lapsed claim) and only while
 * it is open, and it closes only under its row lock, once none of its members
 * waits.
 */

/** The channel's open digest, if any. */
export async function openDigestOf(db: DbOrTx, channel: string): Promise<ChannelDigestRow | undefined> {
  const [row] = await db.select().from(channelDigests).where(and(eq(channelDigests.channel, channel), isNull(channelDigests.closedAt))).limit(1);
  return row;
}

export async function getDigest(db: DbOrTx, id: string): Promise<ChannelDigestRow | undefined> {
  const [row] = await db.select().from(channelDigests).where(eq(channelDigests.id, id));
  return row;
}

/**
 * How many of the channel's pending escalations wait for their card (none
 * posted, none in a digest), counted up to `limit`: the channel's backlog.
 */
export async function cardsWaiting(db: DbOrTx, channel: string, limit: number): Promise<number> {
  const rows = rowsOf<{ n: number }>(
    await db.execute(sql`select count(*)::int as n from (
      select 1 from ${escalations}
      where ${escalations.channel} = ${channel} and ${escalations.status} = 'pending'
        and ${escalations.cardTs} is null and ${escalations.cardState} in ('none', 'posting')
      limit ${limit}) as w`),
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Opens the channel's digest, or finds the one another worker opened first:
 * `{ id, opened }`, `opened` true only for the caller whose INSERT took.
 */
export async function openDigest(db: DbOrTx, id: string, channel: string, now: Date): Promise<{ row: ChannelDigestRow; opened: boolean } | undefined> {
  const [inserted] = await db
    .insert(channelDigests)
    .values({ id, channel, openedAt: now })
    .onConflictDoNothing({ target: channelDigests.channel, where: sql`${channelDigests.closedAt} is null` })
    .returning();
  if (inserted) return { row: inserted, opened: true };
  const found = await openDigestOf(db, channel);
  return found ? { row: found, opened: false } : undefined;
}

/**
 * Puts a pending escalation in an open digest, with its `card_digested`
 * event, in one statement: only if the digest is still open (its row
 * key-share-locked, so a close, which locks it for update, waits for this to
 * commit, or this sees it closed; the digest's own updates of its message do
 * not wait on joins, nor joins on them), and only if nobody posts or posted
 * its card (state `none`, a claim that lapsed, or `ownClaim`: the claim the
 * caller holds, taken over). False: it did not join; the caller posts its
 * card as before.
 */
export async function joinDigest(db: DbOrTx, digestId: string, escalationId: string, now: Date, event: EventInput, ownClaim?: Date): Promise<boolean> {
  return (await joinWhere(db, sql`id = ${digestId}::uuid`, escalationId, now, event, ownClaim)) !== undefined;
}

/**
 * joinDigest into the channel's open digest, whichever it is, in the same one
 * statement (no read first): the digest's id, or undefined when the channel
 * has none open or this escalation cannot join.
 */
export async function joinOpenDigest(db: DbOrTx, channel: string, escalationId: string, now: Date, event: EventInput, ownClaim?: Date): Promise<string | undefined> {
  return joinWhere(db, sql`channel = ${channel} and closed_at is null`, escalationId, now, event, ownClaim);
}

/** The join; `data.digestId` of the event is filled in with the digest joined. */
async function joinWhere(db: DbOrTx, which: ReturnType<typeof sql>, escalationId: string, now: Date, event: EventInput, ownClaim?: Date): Promise<string | undefined> {
  const own = ownClaim ? sql` or card_lease_until = ${ownClaim.toISOString()}::timestamptz` : sql``;
  const rows = rowsOf<{ digest_id: string }>(
    await db.execute(sql`with d as (
        select id from ${channelDigests} where ${which} and closed_at is null limit 1 for key share
      ), j as (
        update ${escalations} set card_state = 'digest', digest_id = (select id from d), card_lease_until = null
        where id = ${escalationId}::uuid and status = 'pending' and card_ts is null and exists (select 1 from d)
          and (card_state = 'none' or (card_state = 'posting' and (card_lease_until is null or card_lease_until <= ${now.toISOString()}::timestamptz${own})))
        returning id, execution_id, digest_id
      ), ev as (
        insert into ${events} (escalation_id, execution_id, type, actor, data)
        select j.id, j.execution_id, ${event.type}, ${event.actor}, ${JSON.stringify(event.data ?? {})}::jsonb || jsonb_build_object('digestId', j.digest_id) from j
        returning id
      )
      select digest_id::text as digest_id from j`),
  );
  return rows[0]?.digest_id;
}

export interface DigestLine {
  actionType: string;
  waiting: number;
  total: number;
  oldestAt: Date | null;
}

/** The digest's members by action type: how many wait, how many joined, and the oldest waiting one's arrival. */
export async function digestMembers(db: DbOrTx, digestId: string): Promise<DigestLine[]> {
  const rows = rowsOf<{ action_type: string | null; waiting: number; total: number; oldest: string | Date | null }>(
    await db.execute(sql`select action_type, (count(*) filter (where status = 'pending'))::int as waiting, count(*)::int as total,
        min(created_at) filter (where status = 'pending') as oldest
      from ${escalations} where digest_id = ${digestId}::uuid group by action_type`),
  );
  return rows.map((r) => ({ actionType: r.action_type ?? '', waiting: Number(r.waiting), total: Number(r.total), oldestAt: r.oldest ? new Date(r.oldest) : null }));
}

/**
 * Claims the digest's post, as a card's (leases.ts): unless posted, or another
 * run's claim has not lapsed. `lapsed`: the claim taken over was an earlier
 * run's, never given back, so that run may have posted (its outcome unknown):
 * look for its message before posting.
 */
export async function claimDigestPost(db: DbOrTx, id: string, now: Date, leaseMs: number): Promise<{ until: Date; lapsed: boolean } | undefined> {
  const until = new Date(now.getTime() + leaseMs);
  // The claim as it was, read under the row lock the UPDATE takes anyway.
  const rows = rowsOf<{ prev: string | Date | null }>(
    await db.execute(sql`with prev as (
        select id, post_lease_until from ${channelDigests} where id = ${id}::uuid for update
      )
      update ${channelDigests} d set post_lease_until = ${until.toISOString()}::timestamptz from prev
      where d.id = prev.id and d.ts is null and (d.post_lease_until is null or d.post_lease_until <= ${now.toISOString()}::timestamptz)
      returning prev.post_lease_until as prev`),
  );
  return rows.length > 0 ? { until, lapsed: rows[0]!.prev !== null } : undefined;
}

/** Ends this run's claim without giving it back (a failed look-up): the next run looks for the message again before posting. */
export async function lapseDigestPost(db: DbOrTx, id: string, now: Date): Promise<void> {
  await db.update(channelDigests).set({ postLeaseUntil: now }).where(and(eq(channelDigests.id, id), isNull(channelDigests.ts)));
}

/** Gives the post claim back: nothing was posted (a pacer wait, a 429, a definite refusal). */
export async function releaseDigestPost(db: DbOrTx, id: string): Promise<void> {
  await db.update(channelDigests).set({ postLeaseUntil: null }).where(and(eq(channelDigests.id, id), isNull(channelDigests.ts)));
}

/** Records the posted digest's ts and what it showed, with its `digest_posted` event, once. */
export async function markDigestPosted(db: DbOrTx, id: string, ts: string, shown: string, event: EventInput): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(channelDigests)
      .set({ ts, shown, postLeaseUntil: null })
      .where(and(eq(channelDigests.id, id), isNull(channelDigests.ts)))
      .returning({ id: channelDigests.id });
    if (rows.length === 0) return false;
    await tx.insert(events).values({ ...event, data: event.data ?? {} });
    return true;
  });
}

export async function markDigestShown(db: DbOrTx, id: string, shown: string): Promise<void> {
  await db.update(channelDigests).set({ shown }).where(eq(channelDigests.id, id));
}

/**
 * Closes the digest if none of its members waits, with its `digest_closed`
 * event. The row lock first, then the count in a statement of its own: a
 * join that committed meanwhile is seen (joinDigest key-share-locks the row,
 * which a lock for update waits on).
 */
export async function closeDigestIfDrained(db: DbOrTx, id: string, now: Date, event: EventInput): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [locked] = await tx.select({ id: channelDigests.id }).from(channelDigests).where(and(eq(channelDigests.id, id), isNull(channelDigests.closedAt))).for('update');
    if (!locked) return false;
    const [waiting] = await tx.select({ id: escalations.id }).from(escalations).where(and(eq(escalations.digestId, id), eq(escalations.status, 'pending'))).limit(1);
    if (waiting) return false;
    await tx.update(channelDigests).set({ closedAt: now }).where(eq(channelDigests.id, id));
    await tx.insert(events).values({ ...event, data: event.data ?? {} });
    return true;
  });
}

/** Nothing left to show: its message says it is over, or it closed before it was ever posted. */
export async function settleDigest(db: DbOrTx, id: string, now: Date, shown: string | null): Promise<void> {
  await db
    .update(channelDigests)
    .set({ settledAt: now, ...(shown === null ? {} : { shown }) })
    .where(and(eq(channelDigests.id, id), isNull(channelDigests.settledAt)));
}

/** Digests not settled: each needs its job (src/flow/rebuild.ts and the sweep put a lost one back). */
export async function unsettledDigests(db: DbOrTx, limit = 500): Promise<string[]> {
  const rows = await db.select({ id: channelDigests.id }).from(channelDigests).where(isNull(channelDigests.settledAt)).orderBy(asc(channelDigests.openedAt)).limit(limit);
  return rows.map((r) => r.id);
}

/** For tests and tools: the escalations shown in a digest. */
export async function digestMemberIds(db: DbOrTx, digestId: string): Promise<string[]> {
  const rows = await db.select({ id: escalations.id }).from(escalations).where(and(eq(escalations.digestId, digestId), inArray(escalations.cardState, ['digest'])));
  return rows.map((r) => r.id);
}
