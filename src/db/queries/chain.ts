import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { events } from '../schema/events.js';

/**
 * Whether the re-ping for the shift change at `handoffAt` (epoch ms) was
 * already sent: a job retried after a crash then pings nobody twice.
 */
export async function handoffRecorded(db: DbOrTx, escalationId: string, handoffAt: number): Promise<boolean> {
  const rows = await db
    .select({ one: sql`1` })
    .from(events)
    .where(and(eq(events.escalationId, escalationId), eq(events.type, 'chain_handoff'), sql`(${events.data} ->> 'handoffAt')::bigint = ${handoffAt}`))
    .limit(1);
  return rows.length > 0;
}

/** The highest chain step recorded for an escalation, or -1: a stale duplicate of an earlier step then stops. */
export async function lastChainStep(db: DbOrTx, escalationId: string): Promise<number> {
  const rows = await db
    .select({ step: sql<number | null>`max((${events.data} ->> 'step')::int)` })
    .from(events)
    .where(and(eq(events.escalationId, escalationId), eq(events.type, 'chain_step')));
  const step = rows[0]?.step;
  return step === null || step === undefined ? -1 : Number(step);
}
