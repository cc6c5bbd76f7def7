import type { DbOrTx } from '../client.js';
import { outcomes } from '../schema/outcomes.js';

type NewOutcome = typeof outcomes.$inferInsert;

/** Inserts a report once; undefined when this report id was already recorded. */
export async function insertOutcome(db: DbOrTx, o: NewOutcome) {
  const rows = await db.insert(outcomes).values(o).onConflictDoNothing({ target: outcomes.id }).returning();
  return rows[0];
}
