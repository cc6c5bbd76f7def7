import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * One drawn action of a batch review and its verdict. `verdict` is set once
 * (`UPDATE … WHERE verdict IS NULL`); the per-agent record counts
 * `verdict = 'incorrect'` as an error.
 */
export const reviewSampleItems = pgTable(
  'review_sample_items',
  {
    sampleId: uuid('sample_id').notNull(),
    escalationId: uuid('escalation_id').notNull(),
    /** 0-based order of the draw; cards are posted in this order. */
    position: integer('position').notNull(),
    agentId: text('agent_id').notNull(),
    actionType: text('action_type').notNull(),
    verdict: text('verdict').$type<'correct' | 'incorrect'>(),
    note: text('note'),
    reviewedBy: text('reviewed_by'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    cardChannel: text('card_channel'),
    cardTs: text('card_ts'),
  },
  (t) => [
    primaryKey({ columns: [t.sampleId, t.escalationId] }),
    check('review_sample_items_verdict_check', sql`${t.verdict} in ('correct','incorrect')`),
    index('review_sample_items_agent_idx').on(t.agentId, t.reviewedAt),
    index('review_sample_items_escalation_idx').on(t.escalationId),
  ],
);

export type ReviewSampleItemRow = typeof reviewSampleItems.$inferSelect;
