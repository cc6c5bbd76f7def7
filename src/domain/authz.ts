import type { Approvers } from './config.js';

export type DecisionKind = 'approve' | 'deny';

export type AuthzResult =
  | { allowed: true }
  | { allowed: false; reason: 'not_an_approver' | 'owner_cannot_approve' };

/**
 * May `userId` make this decision? Approvers are the route's users plus the
 * members of its user group (resolved by the caller, cached). The agent's owner
 * may never approve their own agent's action; denying is fail-safe, so an owner
 * who is also an approver may still deny.
 */
export function authorize(input: {
  userId: string;
  kind: DecisionKind;
  approvers: Approvers;
  usergroupMembers: readonly string[];
  agentOwner: string;
}): AuthzResult {
  const { userId, kind, approvers, usergroupMembers, agentOwner } = input;
  const isApprover = approvers.users.includes(userId) || usergroupMembers.includes(userId);
  if (kind === 'approve' && userId === agentOwner) return { allowed: false, reason: 'owner_cannot_approve' };
  if (!isApprover) return { allowed: false, reason: 'not_an_approver' };
  return { allowed: true };
}
