import { and, asc, eq, inArray, isNull, lt, ne, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow, type NewEscalationRow } from '../schema/escalations.js';

export async function getEscalation(db: DbOrTx, id: string): Promise<EscalationRow | undefined> {
  const rows = await db.select().from(escalations).where(eq(escalations.id, id)).limit(1);
  return rows[0];
}

/** Inserts unless the id exists; returns the new row, or undefined on a duplicate. */
export async function insertEscalation(db: DbOrTx, row: NewEscalationRow): Promise<EscalationRow | undefined> {
  const rows = await db.insert(escalations).values(row).onConflictDoNothing({ target: escalations.id }).returning();
  return rows[0];
}

export async function setCardState(db: DbOrTx, id: string, state: 'none' | 'posting'): Promise<void> {
  await db
    .update(escalations)
    .set({ cardState: state })
    .where(and(eq(escalations.id, id), ne(escalations.cardState, 'posted')));
}

/** Records the posted card once; a second ts for the same escalation is refused. */
export async function markCardPosted(db: DbOrTx, id: string, ts: string): Promise<EscalationRow | undefined> {
  const rows = await db
    .update(escalations)
    .set({ cardState: 'posted', cardTs: ts })
    .where(and(eq(escalations.id, id), isNull(escalations.cardTs)))
    .returning();
  return rows[0];
}

export interface DecisionWrite {
  id: string;
  digest: string;
  status: 'approved' | 'denied';
  by: string;
  reason: string | null;
  policyVersion: string;
}

/**
 * The first valid decision wins: the guard on `status = 'pending'` and on the
 * digest makes this a compare-and-set. Undefined means someone else already
 * decided (or the request changed).
 */
export async function decideEscalation(db: DbOrTx, d: DecisionWrite): Promise<EscalationRow | undefined> {
  const rows = await db
    .update(escalations)
    .set({
      status: d.status,
      decidedBy: d.by,
      decidedAt: sql`now()`,
      decisionReason: d.reason,
      policyVersion: d.policyVersion,
    })
    .where(and(eq(escalations.id, d.id), eq(escalations.status, 'pending'), eq(escalations.digest, d.digest)))
    .returning();
  return rows[0];
}

/** Deadline passed with nobody deciding: fail-safe deny, guarded like a decision. */
export async function expireEscalation(db: DbOrTx, id: string, reason: string): Promise<EscalationRow | undefined> {
  const rows = await db
    .update(escalations)
    .set({ status: 'expired', failSafe: true, decidedAt: sql`now()`, decisionReason: reason })
    .where(and(eq(escalations.id, id), eq(escalations.status, 'pending')))
    .returning();
  return rows[0];
}

export async function markNotified(db: DbOrTx, id: string): Promise<void> {
  await db
    .update(escalations)
    .set({ notifiedAt: sql`now()` })
    .where(and(eq(escalations.id, id), isNull(escalations.notifiedAt)));
}

/** Decided long enough ago that the notify job should have run: the outbox sweep. */
export async function findUnnotified(db: DbOrTx, olderThan: Date, limit = 500): Promise<string[]> {
  const rows = await db
    .select({ id: escalations.id })
    .from(escalations)
    .where(
      and(
        isNull(escalations.notifiedAt),
        inArray(escalations.status, ['approved', 'denied', 'expired', 'rejected']),
        lt(escalations.decidedAt, olderThan),
      ),
    )
    .orderBy(asc(escalations.decidedAt))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Pending past their deadline, e.g. a lost delayed job: the expiry sweep. */
export async function findOverdue(db: DbOrTx, now: Date, limit = 500): Promise<string[]> {
  const rows = await db
    .select({ id: escalations.id })
    .from(escalations)
    .where(and(eq(escalations.status, 'pending'), lt(escalations.deadline, now)))
    .limit(limit);
  return rows.map((r) => r.id);
}
