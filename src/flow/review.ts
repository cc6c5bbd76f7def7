import { getEscalation } from '../db/queries/escalations.js';
import { recordEvents } from '../db/queries/events.js';
import { reviewEscalation } from '../db/queries/reviews.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { mayDecide } from './decide.js';
import type { FlowPorts } from './ports.js';
import { redactorOf } from '../domain/audit-config.js';

export type ReviewOutcome =
  | { kind: 'made'; row: EscalationRow }
  | { kind: 'already'; row: EscalationRow }
  | { kind: 'refused'; reason: 'not_an_approver' | 'owner_cannot_approve' | 'request_changed' | 'no_route'; route: string | null }
  | { kind: 'unknown' };

/**
 * A human reviews a supervised action after it ran. "Right" is an approval
 * (the owner may not give it); "wrong" is fail-safe, sends the agent a
 * compensate signal and counts as an error in the agent's record.
 */
export async function review(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'config' | 'scheduler'>,
  input: { escalationId: string; digest: string; userId: string; verdict: 'ok' | 'wrong'; note: string | null },
): Promise<ReviewOutcome> {
  const row = await getEscalation(ports.db, input.escalationId);
  if (!row || row.reviewState === 'none') return { kind: 'unknown' };
  const base = { escalationId: row.id, executionId: row.executionId, actor: input.userId };
  if (row.reviewState !== 'pending') return { kind: 'already', row };
  const refusal =
    (await mayDecide(ports, row, input.userId, input.verdict === 'ok' ? 'approve' : 'deny')) ??
    (row.digest !== input.digest ? ({ kind: 'refused', reason: 'request_changed', route: row.route } as const) : undefined);
  if (refusal && refusal.kind === 'refused') {
    await recordEvents(ports.db, [{ ...base, type: 'review_refused', data: { verdict: input.verdict, reason: refusal.reason } }]);
    return refusal;
  }
  // The reviewer's note is stored and shown: PII masked first.
  const note = input.note === null ? null : redactorOf(ports.config.current().config.audit).text(input.note);
  const made = await ports.db.transaction(async (tx) => {
    const updated = await reviewEscalation(tx, { id: row.id, digest: input.digest, verdict: input.verdict, by: input.userId, note });
    if (!updated) return undefined;
    await recordEvents(tx, [
      {
        ...base,
        type: 'review_made',
        // An action marked wrong is an error in the agent's record.
        data: { verdict: input.verdict, note, agentId: row.agentId, actionType: row.actionType, error: input.verdict === 'wrong' },
      },
    ]);
    return updated;
  });
  if (!made) return { kind: 'already', row: (await getEscalation(ports.db, row.id)) ?? row };
  await ports.scheduler.enqueueNotify(made.id, 'review');
  return { kind: 'made', row: made };
}
