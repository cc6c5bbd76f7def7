import { and, eq, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { agentCapabilities } from '../schema/agent-capabilities.js';
import { agentModes, type AgentModeRow } from '../schema/agent-modes.js';
import { modeProposals, type ModeProposalRow } from '../schema/mode-proposals.js';
import type { Mode, StoredModes } from '../../domain/modes.js';

/** An agent's stored modes by scope, and the highest revision among them (0: none stored). */
export interface StoredModeSet {
  rev: number;
  modes: StoredModes;
}

export async function storedModeRows(db: DbOrTx, agentId?: string): Promise<AgentModeRow[]> {
  const q = db.select().from(agentModes);
  return agentId === undefined ? q : q.where(eq(agentModes.agentId, agentId));
}

export async function storedModes(db: DbOrTx, agentId: string): Promise<StoredModeSet> {
  const rows = await storedModeRows(db, agentId);
  return { rev: rows.reduce((m, r) => Math.max(m, r.rev), 0), modes: Object.fromEntries(rows.map((r) => [r.scope, r.mode])) };
}

/**
 * Records a capability the first time an agent is allowed to attempt it; true
 * only for the call that recorded it (concurrent replicas agree on one).
 */
export async function recordCapability(db: DbOrTx, agentId: string, actionType: string, escalationId: string): Promise<boolean> {
  const rows = await db
    .insert(agentCapabilities)
    .values({ agentId, actionType, firstEscalationId: escalationId })
    .onConflictDoNothing()
    .returning({ agentId: agentCapabilities.agentId });
  return rows.length > 0;
}

export interface ModeWrite {
  agentId: string;
  scope: string;
  mode: Mode;
  reason: string;
  by: string;
  /** Only if the scope's stored mode is this (undefined: no row may exist yet, or it is this mode's default). */
  expect: Mode | null;
  /** A demotion restarts the promotion evidence. */
  resetEvidence: boolean;
}

/**
 * Sets a scope's mode, guarded: only from the expected mode (`null`: only if
 * nothing is stored). Returns the new row, or undefined when someone changed
 * it first.
 */
export async function writeMode(db: DbOrTx, w: ModeWrite): Promise<AgentModeRow | undefined> {
  const now = new Date();
  const values = {
    agentId: w.agentId,
    scope: w.scope,
    mode: w.mode,
    since: now,
    evidenceSince: w.resetEvidence ? now : null,
    reason: w.reason,
    setBy: w.by,
  };
  if (w.expect === null) {
    const rows = await db.insert(agentModes).values(values).onConflictDoNothing().returning();
    return rows[0];
  }
  const rows = await db
    .update(agentModes)
    .set({
      mode: w.mode,
      since: now,
      reason: w.reason,
      setBy: w.by,
      rev: sql`nextval('agent_modes_rev_seq')`,
      ...(w.resetEvidence ? { evidenceSince: now } : {}),
    })
    .where(and(eq(agentModes.agentId, w.agentId), eq(agentModes.scope, w.scope), eq(agentModes.mode, w.expect)))
    .returning();
  return rows[0];
}

export async function insertProposal(db: DbOrTx, p: typeof modeProposals.$inferInsert): Promise<ModeProposalRow | undefined> {
  const rows = await db.insert(modeProposals).values(p).onConflictDoNothing().returning();
  return rows[0];
}

export async function getProposal(db: DbOrTx, id: string): Promise<ModeProposalRow | undefined> {
  const rows = await db.select().from(modeProposals).where(eq(modeProposals.id, id)).limit(1);
  return rows[0];
}

/** Proposals for one agent and scope, newest first. */
export async function proposalsFor(db: DbOrTx, agentId: string, scope: string): Promise<ModeProposalRow[]> {
  return db
    .select()
    .from(modeProposals)
    .where(and(eq(modeProposals.agentId, agentId), eq(modeProposals.scope, scope)))
    .orderBy(sql`${modeProposals.createdAt} desc`)
    .limit(20);
}

export async function setProposalTs(db: DbOrTx, id: string, channel: string, ts: string): Promise<void> {
  await db.update(modeProposals).set({ channel, ts }).where(eq(modeProposals.id, id));
}

/** pending → accepted | declined | superseded, once. */
export async function closeProposal(
  db: DbOrTx,
  id: string,
  status: 'accepted' | 'declined' | 'superseded',
  by: string,
): Promise<ModeProposalRow | undefined> {
  const rows = await db
    .update(modeProposals)
    .set({ status, decidedBy: by, decidedAt: new Date() })
    .where(and(eq(modeProposals.id, id), eq(modeProposals.status, 'pending')))
    .returning();
  return rows[0];
}

/** Pending proposals for a scope whose mode just changed: they no longer apply. */
export async function supersedeProposals(db: DbOrTx, agentId: string, scope: string): Promise<ModeProposalRow[]> {
  return db
    .update(modeProposals)
    .set({ status: 'superseded', decidedBy: 'system', decidedAt: new Date() })
    .where(and(eq(modeProposals.agentId, agentId), eq(modeProposals.scope, scope), eq(modeProposals.status, 'pending')))
    .returning();
}

/** The owner named by the agent's latest request: never the one who accepts its promotion. */
export async function latestOwner(db: DbOrTx, agentId: string): Promise<string | undefined> {
  const rows = rowsOf<{ owner: string | null }>(
    await db.execute(sql`select agent_owner as owner from escalations where agent_id = ${agentId} order by created_at desc limit 1`),
  );
  return rows[0]?.owner ?? undefined;
}

/** postgres.js answers raw queries with an array, PGlite with `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}
