import type { FieldError } from './escalation.js';

export const STATUSES = ['pending', 'approved', 'denied', 'expired', 'rejected'] as const;
export type Status = (typeof STATUSES)[number];
export const FINAL_STATUSES: readonly Status[] = ['approved', 'denied', 'expired', 'rejected'];

/**
 * What the agent receives, by every path (client, callback, HTTP API).
 * `proceed` is the one bit an agent must act on: true only for a recorded approval.
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
  } | null;
  /** sha256 over agent, action and params: the request this decision is bound to. */
  requestDigest: string | null;
  errors?: FieldError[];
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
}

export function decisionMessage(s: DecisionState): DecisionMessage {
  const decided = s.status !== 'pending';
  return {
    version: 1,
    escalationId: s.id,
    executionId: s.executionId,
    status: s.status,
    proceed: s.status === 'approved',
    decision: decided
      ? {
          by: s.decidedBy,
          at: s.decidedAt ? s.decidedAt.toISOString() : null,
          reason: s.decisionReason,
          failSafe: s.failSafe,
        }
      : null,
    requestDigest: s.digest,
    ...(s.errors && s.errors.length > 0 ? { errors: s.errors } : {}),
  };
}
