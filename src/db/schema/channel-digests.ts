import { sql } from 'drizzle-orm';
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * One row per burst into one channel: the digest message that stands in for
 * the cards that would otherwise queue behind the channel's posting pace
 * (src/flow/channel-digest.ts). Its members are the channel's escalations
 * with card state `digest`; at most one digest per channel is open at a time
 * (the partial unique index), so concurrent workers and replicas open one.
 * Closed once none of its members waits; settled once its message says so.
 */
export const channelDigests = pgTable(
  'channel_digests',
  {
    id: uuid('id').primaryKey(),
    channel: text('channel').notNull(),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull(),
    /** The digest message, once posted. */
    ts: text('ts'),
    /** Until when one run holds the right to post it (the flow's clock); as the card's lease (leases.ts). */
    postLeaseUntil: timestamp('post_lease_until', { withTimezone: true }),
    /** The fallback text last shown: an update is made only when it would change. */
    shown: text('shown'),
    closedAt: timestamp('closed_at', { withTimezone: true }),
    /** Its message shows the closed state (or it closed before it was ever posted): nothing left to do. */
    settledAt: timestamp('settled_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('channel_digests_open_idx').on(t.channel).where(sql`${t.closedAt} is null`),
    index('channel_digests_unsettled_idx').on(t.openedAt).where(sql`${t.settledAt} is null`),
  ],
);

export type ChannelDigestRow = typeof channelDigests.$inferSelect;
