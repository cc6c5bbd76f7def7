import type { Trigger } from '../domain/policy/evaluate.js';

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
  /** `policy_allowed`, `policy_denied`, `budget_paused`, `needs_approval`, or `duplicate` for a repeated id. */
  code: string;
  tier: string | null;
  rule: string | null;
  reason: string | null;
  triggers: Trigger[];
  policyVersion: string | null;
}
