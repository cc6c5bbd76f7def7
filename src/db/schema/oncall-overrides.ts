import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * On-call overrides made in Slack (`/countersign override`): `userId` is on
 * call for `route` from `startsAt` to `endsAt`, on top of the route's
 * schedules. Rows are never changed; an override ends by its end time.
 */
export const oncallOverrides = pgTable(
  'oncall_overrides',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    route: text('route').notNull(),
    userId: text('user_id').notNull(),
    /** Only replaces this person; null replaces whoever is on call (and fills a gap). */
    covers: text('covers'),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    /** Slack user id of whoever made it. */
    createdBy: text('created_by').notNull(),
    reason: text('reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('oncall_overrides_route_end_idx').on(t.route, t.endsAt)],
);

export type OncallOverrideRow = typeof oncallOverrides.$inferSelect;
