import { bigint, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The hash chain over `events`, in id order: each link commits to its event
 * and to the link before it, so an edit anywhere breaks every later link.
 * Sealed in batches behind the hot path; append-only like the events.
 */
export const auditChain = pgTable('audit_chain', {
  eventId: bigint('event_id', { mode: 'number' }).primaryKey(),
  /** Hex SHA-256 of the previous link's hash and this event's canonical form. */
  hash: text('hash').notNull(),
  sealedAt: timestamp('sealed_at', { withTimezone: true }).notNull().defaultNow(),
});

export type AuditChainRow = typeof auditChain.$inferSelect;
