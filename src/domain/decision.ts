import type { FieldError } from './escalation.js';
import { needsQuorum, quorumOf, tally, type ApprovalVote, type StoredQuorum } from './quorum.js';

/** The quorum summary of a stored escalation; undefined when one approval decides it. */
export function approvalsSummary(row: StoredQuorum & { approvals: readonly ApprovalVote[]; agentOwner: string | null }): ApprovalsSummary | undefined {
  if (!needsQuorum(row)) return undefined;
  const t = tally(quorumOf(row), row.approvals, row.agentOwner);
  return { required: t.required, by: t.counted.map((c) => c.user) };
}

/** `allowed`: policy let the action run without waiting (autonomous or supervised). */
export const STATUSES = ['pending', 'approved', 'denied', 'expired', 'rejected', 'allowed'] as const;
export type Status = (typeof STATUSES)[number];
export const FINAL_STATUSES: readonly Status[] = ['approved', 'denied', 'expired', 'rejected', 'allowed'];

/**
 * What the agent receives, by every path (client, callback, HTTP API).
 * `proceed` is the one bit an agent must act on: true only for a recorded
 * approval or a policy allowance; a supervised action later marked wrong
 * carries `signal: 'compensate'`.
 */
export interface DecisionMessage {
  version: 1;
  escalationId: string;
  executionId: string | null;
  status: Status;
  proceed: boolean;
  decision: {
    by: string | null;
    at: string | null;
    reason: string | null;
    /** True when nobody decided and the fail-safe outcome (deny) applied. */
    failSafe: boolean;
    /** Machine-readable why: `policy_allowed`, `policy_denied`, `budget_paused`, … (null for a human's decision). */
    code: string | null;
    /** The policy's tier and deciding rule, when policy decided or required the human. */
    tier: string | null;
    rule: string | null;
  } | null;
  /** Supervised actions reviewed afterwards: `compensate` means undo what you did. */
  review?: { verdict: 'ok' | 'wrong'; by: string; at: string; note: string | null };
  signal?: 'compensate';
  /** sha256 over agent, action and params: the request this decision is bound to. */
  requestDigest: string | null;
  /**
   * Set whenever `proceed` is true: what to run. `edited: false`, approved as
   * asked: run your request. `edited: true`: an approver changed params
   * (Edit and approve…); run your request with `editedParams` replacing yours.
   */
  approved?: Approval;
  errors?: FieldError[];
  /** Set when the escalation needs more than one approval: how many, and who approved so far (in order). */
  approvals?: ApprovalsSummary;
}

/** A quorum, as every answer to the agent states it. */
export interface ApprovalsSummary {
  required: number;
  /** Counted approvers, in the order they approved; with `required` of them, the escalation is approved. */
  by: string[];
}

export interface Approval {
  edited: boolean;
  /** The params the approver changed, with the values to run with; `{}` when approved as asked. */
  editedParams: Record<string, unknown>;
  /** The request you asked for (the same as the message's `requestDigest`). */
  requestDigest: string;
  /** What was approved: `requestDigest` when approved as asked, else digest.ts approvedDigest(requestDigest, editedParams). */
  approvedDigest: string;
}

/** The approval of a row that may proceed: as asked, or with the approver's edits. */
export function approvalOf(digest: string | null, approvedDigest: string | null | undefined, editedParams: Record<string, unknown> | null | undefined): Approval | undefined {
  if (!digest) return undefined;
  const edits = approvedDigest && approvedDigest !== digest ? (editedParams ?? {}) : {};
  const edited = Object.keys(edits).length > 0;
  return { edited, editedParams: edits, requestDigest: digest, approvedDigest: edited ? approvedDigest! : digest };
}

export interface DecisionState {
  id: string;
  executionId: string | null;
  status: Status;
  digest: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
  failSafe: boolean;
  errors: FieldError[] | null;
  decisionCode?: string | null;
  tier?: string | null;
  policyRule?: string | null;
  reviewState?: string;
  reviewedBy?: string | null;
  reviewedAt?: Date | null;
  reviewNote?: string | null;
  approvals?: ApprovalsSummary;
  /** Approved with edits: the digest the approval binds, and the params the approver changed. */
  approvedDigest?: string | null;
  editedParams?: Record<string, unknown> | null;
}

export function decisionMessage(s: DecisionState): DecisionMessage {
  const decided = s.status !== 'pending';
  return {
    version: 1,
    escalationId: s.id,
    executionId: s.executionId,
    status: s.status,
    proceed: s.status === 'approved' || s.status === 'allowed',
    decision: decided
      ? {
          by: s.decidedBy,
          at: s.decidedAt ? s.decidedAt.toISOString() : null,
          reason: s.decisionReason,
          failSafe: s.failSafe,
          code: s.decisionCode ?? null,
          tier: s.tier ?? null,
          rule: s.policyRule ?? null,
        }
      : null,
    requestDigest: s.digest,
    ...((s.status === 'approved' || s.status === 'allowed') && s.digest ? { approved: approvalOf(s.digest, s.approvedDigest, s.editedParams)! } : {}),
    ...(s.errors && s.errors.length > 0 ? { errors: s.errors } : {}),
    ...((s.reviewState === 'ok' || s.reviewState === 'wrong') && s.reviewedBy
      ? {
          review: {
            verdict: s.reviewState,
            by: s.reviewedBy,
            at: (s.reviewedAt ?? new Date(0)).toISOString(),
            note: s.reviewNote ?? null,
          },
        }
      : {}),
    ...(s.reviewState === 'wrong' ? { signal: 'compensate' as const } : {}),
    ...(s.approvals ? { approvals: s.approvals } : {}),
  };
}
