import type { FieldError } from '../domain/validation.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { answerOf, type AuthorizeAnswer } from './answer.js';
import { intake } from './intake.js';
import type { FlowPorts } from './ports.js';

export type AuthorizeResult =
  | {
      kind: 'answered';
      answer: AuthorizeAnswer;
      row: EscalationRow;
      /**
       * A decision made now is announced to other waiters (decision store) after the
       * caller has its answer: this settles once that is done; it never rejects (a
       * failure is logged: the row is committed, and long-polls re-read Postgres).
       */
      announced?: Promise<void>;
    }
  | { kind: 'rejected'; errors: FieldError[]; message: string };

/**
 * The escalation job's decision for a caller that is not on the queue
 * (`POST /api/authorize`): the same intake and policy, answered as the job's
 * return value is. Intake commits the row (with its `received` event) before
 * this returns, so an `allow` is never given for an unrecorded action.
 *
 * Unlike the job, a pending escalation's card is not posted here: the caller
 * must not wait on Slack. It goes out on a card job keyed by the escalation's
 * id, so a repeated request (or the agent's own BullMQ job for that id) never
 * posts a second card. A supervised action's review card goes out on its
 * notify job, as from the escalation job.
 */
export async function authorizeRequest(
  ports: Pick<FlowPorts, 'db' | 'config' | 'scheduler' | 'now' | 'budgets' | 'flags' | 'decisions' | 'leaseMs' | 'log'>,
  data: unknown,
): Promise<AuthorizeResult> {
  const result = await intake(ports, data, undefined, { cardLater: true, announceLater: true });
  if (result.kind === 'rejected') return result;
  const { row } = result;
  // A repeat enqueues too: the first request may have died between its commit and its enqueue.
  if (row.status === 'pending' && row.cardState !== 'posted' && row.cardState !== 'digest' && row.channel) await ports.scheduler.enqueueCard(row.id, row.channel);
  else if (row.reviewState === 'pending' && row.cardState !== 'posted') await ports.scheduler.enqueueNotify(row.id);
  const announced = result.announced?.catch((err: unknown) =>
    ports.log.error({ err, escalationId: row.id, executionId: row.executionId }, 'decision made, but not announced to waiters (decision store)'),
  );
  return { kind: 'answered', answer: answerOf(row, result.fresh ? undefined : 'duplicate'), row, ...(announced ? { announced } : {}) };
}
