import { expireEscalation } from '../db/queries/escalations.js';
import { recordEvent } from '../db/queries/events.js';
import type { FlowPorts } from './ports.js';

export const EXPIRY_REASON = 'Deadline passed with no decision: fail-safe deny.';

/**
 * Step 6: the deadline's delayed job fires. Still pending → expired, with the
 * fail-safe outcome (deny); a decision that got there first makes this a no-op.
 */
export async function expire(ports: Pick<FlowPorts, 'db' | 'scheduler'>, escalationId: string): Promise<boolean> {
  const expired = await ports.db.transaction(async (tx) => {
    const row = await expireEscalation(tx, escalationId, EXPIRY_REASON);
    if (!row) return false;
    await recordEvent(tx, {
      escalationId,
      executionId: row.executionId,
      type: 'expired',
      actor: 'system',
      data: { deadline: row.deadline?.toISOString() ?? null, outcome: 'denied' },
    });
    return true;
  });
  if (expired) await ports.scheduler.enqueueNotify(escalationId);
  return expired;
}
