import type { Approvers } from './config.js';

export type DecisionKind = 'approve' | 'deny';

/** `onBehalfOf`: allowed only as the out-of-office delegate of this approver (src/domain/delegation.ts). */
export type AuthzResult =
  | { allowed: true; onBehalfOf?: string }
  | { allowed: false; reason: 'not_an_approver' | 'owner_cannot_approve' };

/**
 * May `userId` make this decision? Approvers are the route's users plus the
 * members of its user group (resolved by the caller, cached). The agent's owner
 * may never approve their own agent's action; denying is fail-safe, so an owner
 * who is also an approver may still deny.
 *
 * `delegators`: whom `userId` stands in for now (active delegations to them).
 * A delegate may make a decision one of them could make, on their behalf.
 * The owner rule holds for the person clicking as for the delegator: a
 * delegate never approves an action of an agent they own, and nobody
 * approves on behalf of the owner. Delegation is not transitive.
 */
export function authorize(input: {
  userId: string;
  kind: DecisionKind;
  approvers: Approvers;
  usergroupMembers: readonly string[];
  agentOwner: string;
  delegators?: readonly string[];
}): AuthzResult {
  const { userId, kind, approvers, usergroupMembers, agentOwner } = input;
  const isApprover = (u: string) => approvers.users.includes(u) || usergroupMembers.includes(u);
  if (kind === 'approve' && userId === agentOwner) return { allowed: false, reason: 'owner_cannot_approve' };
  if (isApprover(userId)) return { allowed: true };
  const principal = (input.delegators ?? []).find((d) => d !== userId && isApprover(d) && !(kind === 'approve' && d === agentOwner));
  return principal ? { allowed: true, onBehalfOf: principal } : { allowed: false, reason: 'not_an_approver' };
}
