import { bigint, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const EVENT_TYPES = [
  'received',
  'rejected',
  'card_posted',
  'card_post_failed',
  'card_updated',
  'decision_attempted',
  'decision_refused',
  'decision_made',
  // Quorum: one approval of the M an escalation needs (the last one also records decision_made).
  'approval_recorded',
  'expired',
  'agent_notified',
  'agent_notify_failed',
  'policy_decided',
  'agent_paused',
  'agent_resumed',
  'agent_resume_refused',
  'budget_alert',
  'alert_posted',
  'outcome_reported',
  'review_requested',
  'review_reminded',
  'review_escalated',
  'review_made',
  'review_refused',
  // Batch review and the monthly governance report.
  'review_sample_drawn',
  'review_verdict',
  'review_verdict_refused',
  'review_sample_completed',
  'review_sample_post_failed',
  'governance_report_posted',
  'config_reloaded',
  'config_reload_failed',
  'chain_step',
  'chain_handoff',
  // On-call routing: who was paged and why; overrides made in Slack.
  'paged',
  'oncall_override',
  // An urgent escalation's DM to the paged person (chain DMs ride in chain_step), and, once it is over,
  // the DMs and thread pings brought up to date and the App Homes refreshed.
  'oncall_dm',
  'pings_resolved',
  // Audit trail: the chain head posted to Slack; a retention prune (with its checkpoint).
  'audit_anchored',
  'audit_pruned',
  // Review modes: promotion proposals and their answers, automatic demotions.
  'mode_promotion_proposed',
  'mode_promoted',
  'mode_promotion_declined',
  'mode_promotion_refused',
  'mode_demoted',
  // Standing approvals: granted with a decision, used by a later request, revoked, or refused.
  'standing_granted',
  'standing_used',
  'standing_revoked',
  'standing_refused',
  // Hand-offs: a card snoozed or reassigned; an out-of-office delegation set, and ended (revoked, replaced or lapsed).
  'snoozed',
  'reassigned',
  'delegation_set',
  'delegation_ended',
  // A burst into one channel (src/flow/channel-digest.ts): an escalation shown in the channel's digest
  // instead of a card of its own; the digest message posted, and closed once nothing in it waits.
  'card_digested',
  'digest_posted',
  'digest_closed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Every step of every escalation, in order. Code only ever INSERTs here; the
 * audit-trail work adds triggers and privileges that make it append-only and
 * a hash chain over `id` order, so ids are an identity, never reused.
 */
export const events = pgTable(
  'events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    escalationId: uuid('escalation_id'),
    executionId: text('execution_id'),
    type: text('type').$type<EventType>().notNull(),
    /** `system`, `agent:<id>` or a Slack user id. */
    actor: text('actor').notNull(),
    at: timestamp('at', { withTimezone: true, precision: 6 }).notNull().defaultNow(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('events_escalation_idx').on(t.escalationId, t.id), index('events_at_idx').on(t.at)],
);

export type EventRow = typeof events.$inferSelect;
export type NewEventRow = typeof events.$inferInsert;
