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

/**
 * `flushWithNext`: the caller commits synchronously right after this (intake's
 * escalation insert, before any answer), so this commit need not wait for its
 * own WAL flush: that next commit flushes the log past it. A crash between the
 * two loses the spend only with its escalation, and the retry records both.
 */
export async function recordSpend(db: DbOrTx, s: SpendInput, opts: { flushWithNext?: boolean } = {}): Promise<void> {
  if (s.usdMicros <= 0) return;
  if (opts.flushWithNext) {
    // set_config(…, true) is local to this statement's own transaction (auto-commit): one round trip.
    await db.execute(sql`with c as (select set_config('synchronous_commit', 'off', true))
      insert into ${spendLedger} (agent_id, execution_id, escalation_id, outcome_id, kind, usd_micros, at)
      select ${s.agentId}, ${s.executionId}, ${s.escalationId ?? null}::uuid, ${s.outcomeId ?? null}::uuid, ${s.kind}, ${s.usdMicros}::bigint, coalesce(${s.at?.toISOString() ?? null}::timestamptz, now()) from c
      on conflict do nothing`);
    return;
  }
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
