import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * One batch review: a uniform random sample of the actions executed in
 * [window_from, window_to). `seed` + window + agent reproduce the draw
 * (src/domain/sampling.ts); the drawn items are in `review_sample_items`.
 */
export const reviewSamples = pgTable(
  'review_samples',
  {
    id: uuid('id').primaryKey(),
    /** Hex seed of the PRNG; recorded so anyone can redraw the same sample. */
    seed: text('seed').notNull(),
    /** Null: every agent ("all"). */
    agentId: text('agent_id'),
    /** Whole percent of the population, 1–100. */
    percent: integer('percent').notNull(),
    windowFrom: timestamp('window_from', { withTimezone: true }).notNull(),
    windowTo: timestamp('window_to', { withTimezone: true }).notNull(),
    /** A Slack user id, or `schedule:<name>` for a weekly run. */
    requestedBy: text('requested_by').notNull(),
    /** `dm`: cards go to the requester's DM; `thread`: into a thread in `channel`. */
    destination: text('destination').$type<'dm' | 'thread'>().notNull(),
    /** Where the progress message and the cards live (a D… id for a DM). */
    channel: text('channel'),
    /** The progress message; cards are its thread replies in `thread` mode. */
    progressTs: text('progress_ts'),
    /** Executed actions in the window (the population drawn from). */
    population: integer('population').notNull(),
    size: integer('size').notNull(),
    /** A scheduled run's identity, so a retried job draws once. */
    runKey: text('run_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    summaryTs: text('summary_ts'),
  },
  (t) => [
    check('review_samples_destination_check', sql`${t.destination} in ('dm','thread')`),
    check('review_samples_percent_check', sql`${t.percent} between 1 and 100`),
    uniqueIndex('review_samples_run_key_uq').on(t.runKey).where(sql`${t.runKey} is not null`),
    index('review_samples_requested_by_idx').on(t.requestedBy, t.createdAt),
  ],
);

export type ReviewSampleRow = typeof reviewSamples.$inferSelect;
