import { decisionMessage, type DecisionMessage, type Status } from '../domain/decision.js';
import { getEscalation, markNotified } from '../db/queries/escalations.js';
import { recordEvent } from '../db/queries/events.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { RateLimitedError } from '../errors.js';
import { escalationCard } from '../slack/cards/escalation-card.js';
import { cardStateOf } from './card-state.js';
import type { FlowPorts } from './ports.js';

export const updateKey = (channel: string) => `chat.update:${channel}`;

export function messageOf(row: EscalationRow): DecisionMessage {
  return decisionMessage({
    id: row.id,
    executionId: row.executionId,
    status: row.status as Status,
    digest: row.digest,
    decidedBy: row.decidedBy,
    decidedAt: row.decidedAt,
    decisionReason: row.decisionReason,
    failSafe: row.failSafe,
    errors: row.errors,
  });
}

export type NotifyResult = { kind: 'done' } | { kind: 'wait'; ms: number } | { kind: 'skipped' };

/**
 * Step 7: hand a final decision back. Every part is idempotent, so a retry
 * after a crash repeats harmlessly: the durable store for the client, the
 * callback (its own job, retried until a 2xx), and the card, updated in place
 * with the outcome and without its buttons.
 */
export async function notify(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'scheduler' | 'decisions'>,
  escalationId: string,
): Promise<NotifyResult> {
  const row = await getEscalation(ports.db, escalationId);
  if (!row || row.status === 'pending') return { kind: 'skipped' };
  await ports.decisions.publish(messageOf(row));
  if (row.callbackUrl) await ports.scheduler.enqueueCallback(row.id, row.callbackUrl);

  if (row.cardTs && row.channel && row.request) {
    const wait = await ports.pacer.reserve(updateKey(row.channel));
    if (wait > 0) return { kind: 'wait', ms: wait };
    try {
      await ports.slack.updateCard(row.channel, row.cardTs, escalationCard(cardStateOf(row)));
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      await ports.pacer.block(updateKey(row.channel), err.retryAfterMs);
      return { kind: 'wait', ms: err.retryAfterMs };
    }
    await recordEvent(ports.db, {
      escalationId: row.id,
      executionId: row.executionId,
      type: 'card_updated',
      actor: 'system',
      data: { channel: row.channel, ts: row.cardTs, status: row.status },
    });
  }
  if (!row.notifiedAt) {
    await markNotified(ports.db, row.id);
    await recordEvent(ports.db, {
      escalationId: row.id,
      executionId: row.executionId,
      type: 'agent_notified',
      actor: 'system',
      data: { via: 'store', status: row.status },
    });
  }
  return { kind: 'done' };
}
