import { and, eq, gte, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { spendLedger } from '../schema/spend-ledger.js';

export interface SpendInput {
  agentId: string;
  executionId: string;
  escalationId?: string | null;
  outcomeId?: string | null;
  kind: 'action' | 'cost';
  usdMicros: number;
  /** When it was spent, by the flow's clock (the budget windows' clock); default the database's now(). */
  at?: Date;
}

export async function recordSpend(db: DbOrTx, s: SpendInput): Promise<void> {
  if (s.usdMicros <= 0) return;
  await db
    .insert(spendLedger)
    .values({ ...s, escalationId: s.escalationId ?? null, outcomeId: s.outcomeId ?? null })
    .onConflictDoNothing();
}

/** Sum of spend in [from, to), for one agent or (agentId undefined) the organisation, micro-dollars. */
export async function spendBetween(db: DbOrTx, from: Date, to: Date, agentId?: string): Promise<number> {
  const rows = await db
    .select({ total: sql<string>`coalesce(sum(${spendLedger.usdMicros}), 0)` })
    .from(spendLedger)
    .where(and(gte(spendLedger.at, from), lt(spendLedger.at, to), agentId === undefined ? undefined : eq(spendLedger.agentId, agentId)));
  return Number(rows[0]?.total ?? 0);
}
