import { boolean, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per agent that was ever paused. Paused agents' requests are refused
 * with `budget_paused` until an authorised person resumes them.
 */
export const agentStates = pgTable('agent_states', {
  agentId: text('agent_id').primaryKey(),
  paused: boolean('paused').notNull().default(false),
  pausedReason: text('paused_reason'),
  pausedAt: timestamp('paused_at', { withTimezone: true }),
  resumedBy: text('resumed_by'),
  resumedAt: timestamp('resumed_at', { withTimezone: true }),
});

export type AgentStateRow = typeof agentStates.$inferSelect;
