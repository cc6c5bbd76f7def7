import { expireEscalation } from '../db/queries/escalations.js';
import { recordEvent } from '../db/queries/events.js';
import type { FlowPorts } from './ports.js';
import { secondsBetween } from './decide.js';

export const EXPIRY_REASON = 'Deadline passed with no decision: fail-safe deny.';

/**
 * Step 6: the deadline's delayed job fires. Still pending → expired, with the
 * fail-safe outcome (deny); a decision that got there first makes this a no-op.
 */
export async function expire(
  ports: Pick<FlowPorts, 'db' | 'scheduler'> & Partial<Pick<FlowPorts, 'metrics'>>,
  escalationId: string,
  /** Another cause than the deadline (an escalation chain that ran out), for the reason and the record. */
  cause?: { reason: string; data: Record<string, unknown> },
): Promise<boolean> {
  const expired = await ports.db.transaction(async (tx) => {
    const row = await expireEscalation(tx, escalationId, cause?.reason ?? EXPIRY_REASON);
    if (!row) return undefined;
    await recordEvent(tx, {
      escalationId,
      executionId: row.executionId,
      type: 'expired',
      actor: 'system',
      // The fail-safe decides: it stands on its own in an export like decision_made, with the policy and route it applied under.
      data: { deadline: row.deadline?.toISOString() ?? null, outcome: 'denied', failSafe: true, policyVersion: row.policyVersion, route: row.route, ...cause?.data },
    });
    return row;
  });
  if (expired) {
    ports.metrics?.decided({ status: 'expired', tier: expired.tier }, secondsBetween(expired.createdAt, expired.decidedAt));
    await ports.scheduler.enqueueNotify(escalationId);
    // Nobody is paged about a request that is over.
    await ports.scheduler.cancelChain(escalationId);
  }
  return expired !== undefined;
}
