import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { FieldError } from '../../domain/escalation.js';
import type { ApprovalVote } from '../../domain/quorum.js';

/**
 * One row per escalation id. Mutable by design (status, card), but only ever
 * through guarded UPDATEs: `WHERE status = 'pending'` for decisions, so the
 * first decision wins. The history lives in `events`, which is append-only.
 */
export const escalations = pgTable(
  'escalations',
  {
    id: uuid('id').primaryKey(),
    status: text('status').notNull(),
    /** sha256 over agent, action, params; null for rejected input. */
    digest: text('digest'),
    executionId: text('execution_id'),
    agentId: text('agent_id'),
    agentOwner: text('agent_owner'),
    actionType: text('action_type'),
    issueType: text('issue_type'),
    urgency: text('urgency'),
    route: text('route'),
    channel: text('channel'),
    /** The validated request as the agent sent it (job data holds no secrets). */
    request: jsonb('request'),
    errors: jsonb('errors').$type<FieldError[]>(),
    callbackUrl: text('callback_url'),
    deadline: timestamp('deadline', { withTimezone: true }),
    /**
     * none → posting → posted. `posting` without a ts means "maybe posted": reconcile first.
     * `digest`: never posted on its own; a burst into its channel put it in the channel's digest
     * message instead (src/flow/channel-digest.ts), and it is decided from App Home. Final.
     */
    cardState: text('card_state').notNull().default('none'),
    cardTs: text('card_ts'),
    /** The channel digest (channel_digests) this escalation is shown in, with card state `digest`. */
    digestId: uuid('digest_id'),
    /**
     * Until when one run of the card step holds the right to post (the flow's clock). A job
     * BullMQ hands out twice (its lock lapsed on a starved worker) then waits instead of
     * posting a second card. Longer than a Slack call may take (10 s timeout).
     */
    cardLeaseUntil: timestamp('card_lease_until', { withTimezone: true }),
    decidedBy: text('decided_by'),
    /** Decided by `decidedBy` as the out-of-office delegate of this approver (src/domain/delegation.ts). */
    decidedOnBehalfOf: text('decided_on_behalf_of'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decisionReason: text('decision_reason'),
    /** Approved with edits (Edit and approve…): the params as approved (PII masked), and the digest the approval binds (digest.ts approvedDigest). Null: approved as asked, or not approved. */
    approvedParams: jsonb('approved_params').$type<Record<string, unknown>>(),
    approvedDigest: text('approved_digest'),
    failSafe: boolean('fail_safe').notNull().default(false),
    policyVersion: text('policy_version'),
    /** Policy's verdict at intake: tier after rules, the deciding rule, and triggers. */
    tier: text('tier'),
    policyRule: text('policy_rule'),
    policyReason: text('policy_reason'),
    triggers: jsonb('triggers').$type<Array<{ kind: string; message: string }>>(),
    /** The human-in-the-loop mode in force at intake (pre_action, post_action, exception_only). */
    mode: text('mode'),
    /** Why an automatic outcome happened, for agents: policy_denied, budget_paused, allowed… */
    decisionCode: text('decision_code'),
    /** Supervised actions: none → pending → ok | wrong. */
    reviewState: text('review_state').notNull().default('none'),
    reviewedBy: text('reviewed_by'),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
    reviewNote: text('review_note'),
    /** Quorum (src/domain/quorum.ts), fixed at intake so a policy reload never moves a pending escalation's bar. */
    approvalsRequired: integer('approvals_required').notNull().default(1),
    /** User group ids each counted approval must come from a different one of; null: any approver. */
    approvalGroups: jsonb('approval_groups').$type<string[]>(),
    /** The approvals counted so far, in order; written only under the row's lock (src/flow/vote.ts). */
    approvals: jsonb('approvals').$type<ApprovalVote[]>().notNull().default([]),
    /** Set once the decision reached the agent's side (store + card update). */
    notifiedAt: timestamp('notified_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('escalations_status_check', sql`${t.status} in ('pending','approved','denied','expired','rejected','allowed')`),
    check('escalations_card_state_check', sql`${t.cardState} in ('none','posting','posted','digest')`),
    check('escalations_review_state_check', sql`${t.reviewState} in ('none','pending','ok','wrong')`),
    check('escalations_approvals_required_check', sql`${t.approvalsRequired} between 1 and 10`),
    index('escalations_status_deadline_idx').on(t.status, t.deadline),
    index('escalations_execution_idx').on(t.executionId),
    // Audit search (src/db/queries/audit-search.ts): each filter's column, then the result order
    // (created_at, id), so a page is one ordered index walk that stops after 21 rows.
    index('escalations_created_id_idx').on(t.createdAt, t.id),
    index('escalations_agent_created_id_idx').on(t.agentId, t.createdAt, t.id),
    index('escalations_action_created_id_idx').on(t.actionType, t.createdAt, t.id),
    index('escalations_status_created_id_idx').on(t.status, t.createdAt, t.id),
    // Decided rows only. The first serves "decided by X" in order; the second "decided by X, denied"
    // as a range, where the planner would otherwise AND two large bitmaps.
    index('escalations_decider_created_id_idx').on(t.decidedBy, t.createdAt, t.id).where(sql`${t.decidedBy} is not null`),
    index('escalations_decider_status_created_id_idx').on(t.decidedBy, t.status, t.createdAt, t.id).where(sql`${t.decidedBy} is not null`),
    // A channel's pending escalations in arrival order: its card backlog and digest (src/db/queries/channel-digests.ts).
    // Not on card_state, so the card's own update stays HOT (drizzle/0015).
    index('escalations_pending_channel_idx').on(t.channel, t.createdAt).where(sql`${t.status} = 'pending'`),
    index('escalations_digest_idx').on(t.digestId).where(sql`${t.digestId} is not null`),
    index('escalations_unnotified_idx').on(t.decidedAt).where(sql`${t.notifiedAt} is null and ${t.status} <> 'pending'`),
  ],
);

export type EscalationRow = typeof escalations.$inferSelect;
export type NewEscalationRow = typeof escalations.$inferInsert;
