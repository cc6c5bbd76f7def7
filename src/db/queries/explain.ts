import { and, asc, eq, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow } from '../schema/escalations.js';
import { events, type EventRow } from '../schema/events.js';
import { outcomes, type OutcomeRow } from '../schema/outcomes.js';

export interface ExplainRows {
  escalation: EscalationRow;
  events: EventRow[];
  outcomes: OutcomeRow[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function rowsFor(db: DbOrTx, escalation: EscalationRow): Promise<ExplainRows> {
  const [evs, outs] = await Promise.all([
    db.select().from(events).where(eq(events.escalationId, escalation.id)).orderBy(asc(events.id)),
    db.select().from(outcomes).where(eq(outcomes.escalationId, escalation.id)).orderBy(asc(outcomes.at)),
  ]);
  return { escalation, events: evs, outcomes: outs };
}

/**
 * Everything needed to explain an escalation id, or every escalation of an
 * execution id (oldest first), plus that execution's outcome reports that
 * name no escalation (steps the agent ran on its own).
 */
export async function loadExplainRows(db: DbOrTx, id: string): Promise<{ escalations: ExplainRows[]; looseOutcomes: OutcomeRow[] }> {
  if (UUID.test(id)) {
    const [row] = await db.select().from(escalations).where(eq(escalations.id, id)).limit(1);
    if (row) return { escalations: [await rowsFor(db, row)], looseOutcomes: [] };
  }
  const rows = await db.select().from(escalations).where(eq(escalations.executionId, id)).orderBy(asc(escalations.createdAt)).limit(100);
  const loose = await db.select().from(outcomes).where(and(eq(outcomes.executionId, id), isNull(outcomes.escalationId))).orderBy(asc(outcomes.at)).limit(1000);
  return { escalations: await Promise.all(rows.map((r) => rowsFor(db, r))), looseOutcomes: loose };
}
