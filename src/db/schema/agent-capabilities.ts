import { pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Every action type each agent was ever allowed to attempt (not denied by
 * policy). A type missing here is a new capability: under a mode a person
 * granted, it starts again in pre-action review (the seed: tighten again when
 * you add capabilities).
 */
export const agentCapabilities = pgTable(
  'agent_capabilities',
  {
    agentId: text('agent_id').notNull(),
    actionType: text('action_type').notNull(),
    firstEscalationId: uuid('first_escalation_id'),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.actionType] })],
);

export type AgentCapabilityRow = typeof agentCapabilities.$inferSelect;
