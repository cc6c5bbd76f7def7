import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow } from '../schema/escalations.js';

/**
 * The first review of a supervised action wins, like a decision: guarded on
 * `review_state = 'pending'` and on the digest the reviewer saw.
 */
export async function reviewEscalation(
  db: DbOrTx,
  r: { id: string; digest: string; verdict: 'ok' | 'wrong'; by: string; note: string | null },
): Promise<EscalationRow | undefined> {
  const rows = await db
    .update(escalations)
    .set({ reviewState: r.verdict, reviewedBy: r.by, reviewedAt: sql`now()`, reviewNote: r.note })
    .where(and(eq(escalations.id, r.id), eq(escalations.reviewState, 'pending'), eq(escalations.digest, r.digest)))
    .returning();
  return rows[0];
}
