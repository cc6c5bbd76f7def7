import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Out-of-office delegations (`/countersign delegate @x until 2026-12-24`):
 * from `startsAt` until `endsAt` (exclusive), pages to `delegator` go to
 * `delegate`, who may decide what the delegator could. A delegation ends at
 * `endsAt` or when revoked (`delegate off`, or a new delegation replacing
 * it); `endedAt` is set once, by the statement that records its
 * `delegation_ended` event (a revocation, or the sweep after the end date).
 */
export const delegations = pgTable(
  'delegations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** Slack user ids. */
    delegator: text('delegator').notNull(),
    delegate: text('delegate').notNull(),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    /** The date the delegator typed (`until …`), read in `timezone`. */
    until: text('until').notNull(),
    timezone: text('timezone').notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedBy: text('revoked_by'),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('delegations_not_self_check', sql`${t.delegator} <> ${t.delegate}`),
    check('delegations_window_check', sql`${t.startsAt} < ${t.endsAt}`),
    // Not yet ended: the only rows pages and decisions look at.
    index('delegations_delegator_open_idx').on(t.delegator, t.endsAt).where(sql`${t.endedAt} is null`),
    index('delegations_delegate_open_idx').on(t.delegate, t.endsAt).where(sql`${t.endedAt} is null`),
  ],
);

export type DelegationRow = typeof delegations.$inferSelect;
