import { bigint, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * One row per retention prune: everything up to `prunedUpToEventId` was
 * deleted in the same transaction, and `verify` starts from `hash` (that
 * event's link) instead of the genesis. Append-only, written only by the
 * SECURITY DEFINER function countersign_prune_audit.
 */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  prunedUpToEventId: bigint('pruned_up_to_event_id', { mode: 'number' }).notNull(),
  /** The link hash of `prunedUpToEventId`: the new start of the chain. */
  hash: text('hash').notNull(),
  /** Records older than this were removed. */
  cutoff: timestamp('cutoff', { withTimezone: true }).notNull(),
  /** Rows deleted per table. */
  deleted: jsonb('deleted').$type<Record<string, number>>().notNull(),
  by: text('by').notNull(),
  at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
});

export type AuditCheckpointRow = typeof auditCheckpoints.$inferSelect;
