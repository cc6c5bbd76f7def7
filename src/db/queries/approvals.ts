import { and, asc, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow } from '../schema/escalations.js';
import { events } from '../schema/events.js';
import type { ApprovalVote } from '../../domain/quorum.js';
import type { DecisionWrite } from './escalations.js';

/**
 * The escalation, locked until the transaction ends (`FOR UPDATE`): votes on
 * one escalation are counted one at a time, so two approvals clicked at the
 * same instant never both see "one more is needed" and never both decide.
 */
export async function lockEscalation(tx: DbOrTx, id: string): Promise<EscalationRow | undefined> {
  const rows = await tx.select().from(escalations).where(eq(escalations.id, id)).for('update').limit(1);
  return rows[0];
}

/** Stores the votes counted so far; guarded like a decision (still pending, same request). */
export async function storeApprovals(tx: DbOrTx, id: string, digest: string, approvals: ApprovalVote[]): Promise<EscalationRow | undefined> {
  const rows = await tx
    .update(escalations)
    .set({ approvals })
    .where(and(eq(escalations.id, id), eq(escalations.status, 'pending'), eq(escalations.digest, digest)))
    .returning();
  return rows[0];
}

/**
 * The vote that makes the quorum: approved, with every counted vote, by the
 * same compare-and-set as a single decision (`status = 'pending'` and the
 * digest). `decided_by` is the approver whose vote completed it; the rest are
 * in `approvals`.
 */
export async function approveByQuorum(tx: DbOrTx, d: Omit<DecisionWrite, 'status'>, approvals: ApprovalVote[]): Promise<EscalationRow | undefined> {
  const rows = await tx
    .update(escalations)
    .set({ status: 'approved', decidedBy: d.by, decidedAt: d.at ?? sql`now()`, decisionReason: d.reason, policyVersion: d.policyVersion, approvals })
    .where(and(eq(escalations.id, d.id), eq(escalations.status, 'pending'), eq(escalations.digest, d.digest)))
    .returning();
  return rows[0];
}

/** The data of the escalation's first page of its primary on call (`paged`, recorded with the card): whom the card asked. */
export async function firstPrimaryPage(db: DbOrTx, escalationId: string): Promise<Record<string, unknown> | undefined> {
  const rows = await db
    .select({ data: events.data })
    .from(events)
    .where(and(eq(events.escalationId, escalationId), eq(events.type, 'paged'), sql`${events.data} ->> 'target' = 'primary'`))
    .orderBy(asc(events.id))
    .limit(1);
  return rows[0]?.data;
}
