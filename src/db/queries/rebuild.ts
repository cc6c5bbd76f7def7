import { and, asc, eq, gt, inArray, isNotNull, ne, notInArray, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow } from '../schema/escalations.js';
import { events } from '../schema/events.js';

/**
 * What Redis held only as a job, read back from Postgres after Redis lost
 * it (src/flow/rebuild.ts). Each query pages by escalation id (`after`, the
 * last id of the previous page) so that a large backlog is read in bounded
 * steps; the zero UUID starts.
 */
export const FIRST_PAGE = '00000000-0000-0000-0000-000000000000';

/** The outer row's id, qualified: drizzle leaves a one-table select's columns bare, and inside a subquery on `events` a bare `id` is the event's. */
const OUTER_ID = sql.raw('"escalations"."id"');

/** Pending escalations and their deadlines: each needs its expiry timer. */
export async function pendingDeadlines(db: DbOrTx, after: string, limit: number): Promise<Array<{ id: string; deadline: Date }>> {
  const rows = await db
    .select({ id: escalations.id, deadline: escalations.deadline })
    .from(escalations)
    .where(and(eq(escalations.status, 'pending'), isNotNull(escalations.deadline), gt(escalations.id, after)))
    .orderBy(asc(escalations.id))
    .limit(limit);
  return rows.map((r) => ({ id: r.id, deadline: r.deadline! }));
}

/**
 * Cards that should be in Slack and are not recorded there: a pending
 * escalation's decision card, or a supervised action's review card. A card
 * given up for good (`card_post_failed`) stays given up: it was alerted.
 */
export async function cardsNotPosted(db: DbOrTx, after: string, limit: number): Promise<Array<{ id: string; status: string }>> {
  const givenUp = sql`select 1 from ${events} where ${events.escalationId} = ${OUTER_ID} and ${events.type} = 'card_post_failed'`;
  return db
    .select({ id: escalations.id, status: escalations.status })
    .from(escalations)
    .where(
      and(
        or(eq(escalations.status, 'pending'), and(eq(escalations.status, 'allowed'), eq(escalations.reviewState, 'pending'))),
        // A card in its channel's digest is shown there (the digest's own job is put back apart).
        notInArray(escalations.cardState, ['posted', 'digest']),
        isNotNull(escalations.channel),
        gt(escalations.id, after),
        sql`not exists (${givenUp})`,
      ),
    )
    .orderBy(asc(escalations.id))
    .limit(limit);
}

/** Supervised actions still waiting for their review, with which of their two timers already fired (recorded). */
export async function reviewsWaiting(
  db: DbOrTx,
  after: string,
  limit: number,
): Promise<Array<{ id: string; createdAt: Date; reminded: boolean; escalated: boolean }>> {
  const recorded = (type: 'review_reminded' | 'review_escalated') =>
    sql<boolean>`exists (select 1 from ${events} where ${events.escalationId} = ${OUTER_ID} and ${events.type} = ${type})`;
  return db
    .select({ id: escalations.id, createdAt: escalations.createdAt, reminded: recorded('review_reminded'), escalated: recorded('review_escalated') })
    .from(escalations)
    .where(and(eq(escalations.status, 'allowed'), eq(escalations.reviewState, 'pending'), gt(escalations.id, after)))
    .orderBy(asc(escalations.id))
    .limit(limit);
}

/**
 * Decided escalations with a callback URL, decided since `since`, and how
 * many callbacks reached the agent (`agent_notified` via callback). One is
 * owed for the decision, a second for a review that said "wrong". A refused
 * callback (URL or address not allowed, a redirect) is never owed again.
 */
export async function callbacksOwed(
  db: DbOrTx,
  since: Date,
  after: string,
  limit: number,
): Promise<Array<{ id: string; callbackUrl: string; reviewState: string; delivered: number }>> {
  const delivered = sql<number>`(select count(*)::int from ${events} where ${events.escalationId} = ${OUTER_ID} and ${events.type} = 'agent_notified' and ${events.data} ->> 'via' = 'callback')`;
  const refused = sql`exists (select 1 from ${events} where ${events.escalationId} = ${OUTER_ID} and ${events.type} = 'agent_notify_failed' and ${events.data} ->> 'refused' = 'true')`;
  const rows = await db
    .select({ id: escalations.id, callbackUrl: escalations.callbackUrl, reviewState: escalations.reviewState, delivered })
    .from(escalations)
    .where(
      and(
        ne(escalations.status, 'pending'),
        isNotNull(escalations.callbackUrl),
        sql`coalesce(${escalations.decidedAt}, ${escalations.createdAt}) >= ${since.toISOString()}`,
        gt(escalations.id, after),
        sql`not ${refused}`,
      ),
    )
    .orderBy(asc(escalations.id))
    .limit(limit);
  return rows.map((r) => ({ id: r.id, callbackUrl: r.callbackUrl!, reviewState: r.reviewState, delivered: Number(r.delivered) }));
}

/** Final answers given since `since` (decided, expired, rejected, allowed): the durable decision store's content. */
export async function decidedSince(db: DbOrTx, since: Date, after: string, limit: number): Promise<EscalationRow[]> {
  return db
    .select()
    .from(escalations)
    .where(
      and(
        inArray(escalations.status, ['approved', 'denied', 'expired', 'rejected', 'allowed']),
        sql`coalesce(${escalations.decidedAt}, ${escalations.createdAt}) >= ${since.toISOString()}`,
        gt(escalations.id, after),
      ),
    )
    .orderBy(asc(escalations.id))
    .limit(limit);
}
