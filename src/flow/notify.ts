import { approvalsSummary, decisionMessage, type DecisionMessage, type Status } from '../domain/decision.js';
import { editedParamsOf } from '../domain/edit.js';
import { cardUpdatedMarkNotifiedRecorded, markNotifiedRecorded } from '../db/queries/escalations.js';
import { getEscalationGrouped } from '../db/queries/card-batch.js';
import { recordEvent } from '../db/queries/events.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { RateLimitedError } from '../errors.js';
import { escalationCard } from '../slack/cards/escalation-card.js';
import { cardStateOf } from './card-state.js';
import { closeLoop } from './close-loop.js';
import { digestChanged } from './channel-digest.js';
import { postCard, reconcileCard } from './post-card.js';
import type { FlowPorts } from './ports.js';
import { refreshVotesCard } from './vote-card.js';

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
    decisionCode: row.decisionCode,
    tier: row.tier,
    policyRule: row.policyRule,
    reviewState: row.reviewState,
    reviewedBy: row.reviewedBy,
    reviewedAt: row.reviewedAt,
    reviewNote: row.reviewNote,
    approvals: approvalsSummary(row),
    approvedDigest: row.approvedDigest,
    editedParams: editedParamsOf(row),
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
  ports: Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'scheduler' | 'decisions' | 'config' | 'log' | 'now'>,
  escalationId: string,
  kind: 'decision' | 'review' | 'card' | 'votes' = 'decision',
): Promise<NotifyResult> {
  const read = await getEscalationGrouped(ports.db, escalationId);
  // A quorum's vote: the card still waits, now showing who approved (once decided, `votes` updates it like `card`).
  if (read?.status === 'pending' && kind === 'votes') return refreshVotesCard(ports, read);
  if (!read || read.status === 'pending') return { kind: 'skipped' };
  let row = read;
  await ports.decisions.publish(messageOf(row));
  // One fewer waits in its channel's digest: shown within a couple of seconds, not at the digest's next timer.
  if (row.digestId && kind === 'decision') await digestChanged(ports, row.digestId);
  // A review sends the agent something to act on only when it says "wrong": compensate.
  // `card` only brings a card up to date; the agent was told by the `decision` kind.
  if (row.callbackUrl && (kind === 'decision' || (kind === 'review' && row.reviewState === 'wrong'))) {
    await ports.scheduler.enqueueCallback(row.id, row.callbackUrl, kind);
  }

  // A supervised action's review card is posted here, off the agent's fast path.
  if (row.reviewState === 'pending' && row.cardState !== 'posted') {
    const posted = await postCard(ports, row, { fresh: row.cardState === 'none' });
    if (posted.kind === 'wait') return { kind: 'wait', ms: posted.ms };
    return { kind: 'done' };
  }
  // A crash around the post left the card's state unknown: find the card, or it keeps live buttons for good.
  if (row.cardState === 'posting' && !row.cardTs) {
    const found = await reconcileCard(ports, row);
    if (found.kind === 'wait') return found;
    row = found.kind === 'posted' ? { ...row, cardState: 'posted', cardTs: found.ts } : { ...row, cardState: 'none' };
  }
  if (row.cardTs && row.channel && row.request) {
    const wait = await ports.pacer.reserve(updateKey(row.channel));
    if (wait > 0) return { kind: 'wait', ms: wait };
    try {
      await ports.slack.updateCard(row.channel, row.cardTs, escalationCard(cardStateOf(row, ports.config.current().config)));
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      await ports.pacer.block(updateKey(row.channel), err.retryAfterMs);
      return { kind: 'wait', ms: err.retryAfterMs };
    }
    const cardEvent = {
      escalationId: row.id,
      executionId: row.executionId,
      type: 'card_updated',
      actor: 'system',
      data: { channel: row.channel, ts: row.cardTs, status: row.status },
    } as const;
    // A vote's late card update only redraws the card: marking the agent told is the decision's own job (the sweep re-sends it while unmarked).
    if (row.notifiedAt || kind === 'votes') {
      await recordEvent(ports.db, cardEvent);
    } else {
      // Both in one statement; agent_notified only if this statement sets notified_at (as markNotifiedRecorded).
      await cardUpdatedMarkNotifiedRecorded(ports.db, row.id, cardEvent, notifiedEvent(row));
    }
    return closeLoopOf(ports, row);
  }
  if (!row.notifiedAt && kind !== 'votes') {
    // Set once, with its event in the same statement: a repeat (or a racing sweep) records nothing twice.
    await markNotifiedRecorded(ports.db, row.id, notifiedEvent(row));
  }
  return closeLoopOf(ports, row);
}

/** After the card, the on-call DMs and thread pings and the App Homes (close-loop.ts): a 429 there repeats this job later. */
async function closeLoopOf(ports: Parameters<typeof closeLoop>[0], row: EscalationRow): Promise<NotifyResult> {
  const closed = await closeLoop(ports, row);
  return closed.kind === 'wait' ? { kind: 'wait', ms: closed.ms } : { kind: 'done' };
}

const notifiedEvent = (row: EscalationRow) =>
  ({
    escalationId: row.id,
    executionId: row.executionId,
    type: 'agent_notified',
    actor: 'system',
    data: { via: 'store', status: row.status },
  }) as const;
