import { sql } from 'drizzle-orm';
import { bigint, check, pgSequence, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import type { Mode } from '../../domain/modes.js';

/** Bumped on every change of any agent's mode: the Redis cache only ever moves forward. */
export const agentModesRev = pgSequence('agent_modes_rev_seq');

/**
 * An agent's current human-in-the-loop mode, once a person accepted a
 * promotion or Countersign demoted it. Scope `*` is the whole agent; any
 * other scope is one action type (a new capability starts in pre_action).
 * Without a row the config's mode applies, else pre_action. Changed only by
 * guarded UPDATEs, each with an event in the same transaction.
 */
export const agentModes = pgTable(
  'agent_modes',
  {
    agentId: text('agent_id').notNull(),
    scope: text('scope').notNull(),
    mode: text('mode').$type<Mode>().notNull(),
    /** When this mode began: demotion by error rate looks at the record since then. */
    since: timestamp('since', { withTimezone: true }).notNull().defaultNow(),
    /** Promotion evidence counts from here: the last demotion (null: from the first action). */
    evidenceSince: timestamp('evidence_since', { withTimezone: true }),
    reason: text('reason').notNull(),
    /** A Slack user id (accepted a promotion) or `system` (a demotion). */
    setBy: text('set_by').notNull(),
    rev: bigint('rev', { mode: 'number' })
      .notNull()
      .default(sql`nextval('agent_modes_rev_seq')`),
  },
  (t) => [
    primaryKey({ columns: [t.agentId, t.scope] }),
    check('agent_modes_mode_check', sql`${t.mode} in ('pre_action','post_action','exception_only')`),
  ],
);

export type AgentModeRow = typeof agentModes.$inferSelect;
