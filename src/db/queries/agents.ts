import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { agentStates } from '../schema/agent-states.js';

/** Pauses an agent; returns true only for the call that actually paused it. */
export async function pauseAgentRow(db: DbOrTx, agentId: string, reason: string): Promise<boolean> {
  const rows = await db
    .insert(agentStates)
    .values({ agentId, paused: true, pausedReason: reason, pausedAt: new Date() })
    .onConflictDoUpdate({
      target: agentStates.agentId,
      set: { paused: true, pausedReason: reason, pausedAt: sql`now()` },
      setWhere: eq(agentStates.paused, false),
    })
    .returning({ agentId: agentStates.agentId });
  return rows.length > 0;
}

/** Resumes a paused agent; false when it was not paused (someone else resumed it). */
export async function resumeAgentRow(db: DbOrTx, agentId: string, by: string): Promise<boolean> {
  const rows = await db
    .update(agentStates)
    .set({ paused: false, resumedBy: by, resumedAt: sql`now()` })
    .where(and(eq(agentStates.agentId, agentId), eq(agentStates.paused, true)))
    .returning({ agentId: agentStates.agentId });
  return rows.length > 0;
}

export async function pausedAgents(db: DbOrTx): Promise<Array<{ agentId: string; reason: string }>> {
  const rows = await db.select().from(agentStates).where(eq(agentStates.paused, true));
  return rows.map((r) => ({ agentId: r.agentId, reason: r.pausedReason ?? 'paused' }));
}

export async function agentState(db: DbOrTx, agentId: string) {
  const rows = await db.select().from(agentStates).where(eq(agentStates.agentId, agentId)).limit(1);
  return rows[0];
}
