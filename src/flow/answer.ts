import type { Trigger } from '../domain/policy/evaluate.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { approvalsSummary, type ApprovalsSummary } from '../domain/decision.js';
import { approvalOf, type Approval } from '../domain/decision.js';
import { editedParamsOf } from '../domain/edit.js';

/**
 * The escalation job's return value: what an agent waiting on the job (TS
 * client `authorize`, or `job.waitUntilFinished` from any BullMQ language)
 * gets back at once.
 */
export interface AuthorizeAnswer {
  escalationId: string;
  /** `allow`: go ahead (autonomous or supervised); `deny`: don't; `pending`: wait for a human. */
  decision: 'allow' | 'deny' | 'pending';
  status: string;
  /** `policy_allowed`, `policy_denied`, `budget_paused`, `needs_approval`, `standing_approved`, or `duplicate` for a repeated id. */
  code: string;
  tier: string | null;
  rule: string | null;
  reason: string | null;
  triggers: Trigger[];
  policyVersion: string | null;
  /** Set when more than one approval is needed (a quorum): how many, and who approved so far. */
  approvals?: ApprovalsSummary;
  /** With `allow`: what to run, as asked or with an approver's edits (as in the decision message). */
  approved?: Approval;
}

const DECISIONS: Record<string, AuthorizeAnswer['decision']> = { pending: 'pending', allowed: 'allow', approved: 'allow' };

/** The answer for a stored row; `code` overrides the row's (a repeated id says `duplicate`). */
export function answerOf(row: EscalationRow, code?: string): AuthorizeAnswer {
  const approvals = approvalsSummary(row);
  return {
    escalationId: row.id,
    decision: DECISIONS[row.status] ?? 'deny',
    status: row.status,
    code: code ?? row.decisionCode ?? (row.status === 'pending' ? 'needs_approval' : row.status),
    tier: row.tier,
    rule: row.policyRule,
    // Approved under a standing approval: its reason names it and its grantor.
    reason: row.decidedBy?.startsWith('standing:') ? row.decisionReason : (row.policyReason ?? row.decisionReason),
    triggers: (row.triggers ?? []) as Trigger[],
    policyVersion: row.policyVersion,
    ...(approvals ? { approvals } : {}),
    ...(DECISIONS[row.status] === 'allow' && row.digest ? { approved: approvalOf(row.digest, row.approvedDigest, editedParamsOf(row))! } : {}),
  };
}
