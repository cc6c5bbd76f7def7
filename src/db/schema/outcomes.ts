import { bigint, boolean, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** What happened when an agent executed an action, as the agent reported it. */
export const outcomes = pgTable(
  'outcomes',
  {
    /** The report's own id, chosen by the agent: a repeated report is a no-op. */
    id: uuid('id').primaryKey(),
    escalationId: uuid('escalation_id'),
    executionId: text('execution_id').notNull(),
    agentId: text('agent_id').notNull(),
    actionType: text('action_type').notNull(),
    /** Step identity for the repeated-failure trigger; defaults to the action type. */
    step: text('step').notNull(),
    success: boolean('success').notNull(),
    output: text('output'),
    error: text('error'),
    costTokens: integer('cost_tokens').notNull().default(0),
    costUsdMicros: bigint('cost_usd_micros', { mode: 'number' }).notNull().default(0),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('outcomes_step_idx').on(t.agentId, t.executionId, t.step, t.at), index('outcomes_agent_at_idx').on(t.agentId, t.at),
    // An action's latest report, for audit search; success last so outcome filters are index-only.
    index('outcomes_escalation_at_idx').on(t.escalationId, t.at, t.id, t.success),
  ],
);

export type OutcomeRow = typeof outcomes.$inferSelect;
