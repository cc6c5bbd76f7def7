import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { Mode } from '../../domain/modes.js';

/**
 * A promotion proposal: the record met a looser mode's bar, and a person
 * accepts or declines it on its card. At most one pending per agent and
 * scope; decisions are guarded (`WHERE status = 'pending'`).
 */
export const modeProposals = pgTable(
  'mode_proposals',
  {
    id: uuid('id').primaryKey(),
    agentId: text('agent_id').notNull(),
    /** `*` for the whole agent, else one action type. */
    scope: text('scope').notNull(),
    fromMode: text('from_mode').$type<Mode>().notNull(),
    toMode: text('to_mode').$type<Mode>().notNull(),
    /** pending → accepted | declined | superseded (the mode changed before anyone decided). */
    status: text('status').notNull().default('pending'),
    /** The evidence shown on the card. */
    actions: integer('actions').notNull(),
    errors: integer('errors').notNull(),
    channel: text('channel'),
    ts: text('ts'),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('mode_proposals_status_check', sql`${t.status} in ('pending','accepted','declined','superseded')`),
    uniqueIndex('mode_proposals_pending_uq').on(t.agentId, t.scope).where(sql`${t.status} = 'pending'`),
    index('mode_proposals_agent_idx').on(t.agentId, t.scope, t.createdAt),
  ],
);

export type ModeProposalRow = typeof modeProposals.$inferSelect;
