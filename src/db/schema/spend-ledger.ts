import { sql } from 'drizzle-orm';
import { bigint, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * Every spend, append-only: an auto-approved action's own amount, or a
 * reported step cost. Redis counters are a cache of this, rebuilt from it.
 */
export const spendLedger = pgTable(
  'spend_ledger',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    agentId: text('agent_id').notNull(),
    executionId: text('execution_id').notNull(),
    escalationId: uuid('escalation_id'),
    outcomeId: uuid('outcome_id'),
    /** `action`: the action's own spend; `cost`: tokens and API cost of a step. */
    kind: text('kind').$type<'action' | 'cost'>().notNull(),
    /** Micro-dollars: integers, so sums are exact. */
    usdMicros: bigint('usd_micros', { mode: 'number' }).notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('spend_ledger_agent_at_idx').on(t.agentId, t.at),
    index('spend_ledger_execution_idx').on(t.executionId),
    index('spend_ledger_at_idx').on(t.at),
    // A retried job records its spend once.
    uniqueIndex('spend_ledger_escalation_kind_uq').on(t.escalationId, t.kind).where(sql`${t.escalationId} is not null and ${t.outcomeId} is null`),
    uniqueIndex('spend_ledger_outcome_uq').on(t.outcomeId).where(sql`${t.outcomeId} is not null`),
  ],
);

export type SpendRow = typeof spendLedger.$inferSelect;
