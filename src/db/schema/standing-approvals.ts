import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { StandingBounds } from '../../domain/standing.js';

/**
 * Standing approvals ("approve similar for 24 h"), one per grant. Counters
 * change only through guarded UPDATEs (src/db/queries/standing.ts): a use
 * where `used_count < max_count` and the spend fits, a revocation where
 * `revoked_at is null`. The checks are the last line: never past a limit.
 */
export const standingApprovals = pgTable(
  'standing_approvals',
  {
    id: uuid('id').primaryKey(),
    agentId: text('agent_id').notNull(),
    actionType: text('action_type').notNull(),
    /** The route of the escalation it was granted on; later requests must take the same route. */
    route: text('route').notNull(),
    /** Slack user id of the approver who granted it. */
    grantedBy: text('granted_by').notNull(),
    /** How the grantor was an approver of the route: `user`, or `usergroup:<id>`. */
    grantedVia: text('granted_via').notNull(),
    /** The escalation approved with it: one standing approval per escalation. */
    createdFrom: uuid('created_from').notNull().unique(),
    bounds: jsonb('bounds').$type<StandingBounds>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    maxCount: integer('max_count').notNull(),
    usedCount: integer('used_count').notNull().default(0),
    /** Micro-dollars of the covered actions' own spend (their `spendParam`); null: no spend limit. */
    maxSpendMicros: bigint('max_spend_micros', { mode: 'number' }),
    spentMicros: bigint('spent_micros', { mode: 'number' }).notNull().default(0),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedBy: text('revoked_by'),
  },
  (t) => [
    check('standing_approvals_count_check', sql`${t.usedCount} >= 0 and ${t.usedCount} <= ${t.maxCount}`),
    check('standing_approvals_spend_check', sql`${t.maxSpendMicros} is null or ${t.spentMicros} <= ${t.maxSpendMicros}`),
    // The use path's look-up: the agent's live grants for one action.
    index('standing_approvals_live_idx').on(t.agentId, t.actionType, t.expiresAt).where(sql`${t.revokedAt} is null`),
  ],
);

export type StandingApprovalRow = typeof standingApprovals.$inferSelect;
export type NewStandingApprovalRow = typeof standingApprovals.$inferInsert;
