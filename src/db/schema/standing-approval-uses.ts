import { bigint, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { standingApprovals } from './standing-approvals.js';

/**
 * Each use of a standing approval, one per escalation id: a retried intake
 * finds its use here instead of counting a second one.
 */
export const standingApprovalUses = pgTable(
  'standing_approval_uses',
  {
    escalationId: uuid('escalation_id').primaryKey(),
    standingId: uuid('standing_id')
      .notNull()
      .references(() => standingApprovals.id),
    /** The request it covered: a different request reusing the id is not covered by this use. */
    digest: text('digest').notNull(),
    /** 1 for the first use, up to `max_count`. */
    useNumber: integer('use_number').notNull(),
    spendMicros: bigint('spend_micros', { mode: 'number' }).notNull().default(0),
    at: timestamp('at', { withTimezone: true }).notNull(),
  },
  (t) => [index('standing_approval_uses_standing_idx').on(t.standingId)],
);

export type StandingApprovalUseRow = typeof standingApprovalUses.$inferSelect;
