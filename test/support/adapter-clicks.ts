import type { StoredMessage } from './fake-slack.js';
import { REFUNDS_CHANNEL, SIGNING_SECRET, type Harness } from './harness.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from './slack-signing.js';

/** Cards the fake Slack received for one escalation (chat.postMessage calls, including refused ones). */
export function cardsFor(h: Harness, escalationId: string) {
  return h.fake
    .callsTo('chat.postMessage')
    .filter((c) => (c.args.metadata as { event_payload?: { escalation_id?: string } } | undefined)?.event_payload?.escalation_id === escalationId);
}

/**
 * Denies from the card with a reason: the signed view submission of the deny
 * dialog, as Slack sends it after the approver typed the reason.
 */
export function denyWithReason(h: Harness, card: StoredMessage, user: string, reason: string, channel = REFUNDS_CHANNEL) {
  const value = (card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>)
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === 'countersign.deny')!.value;
  const [id, digest] = value.split(':');
  const payload = viewSubmissionPayload({
    userId: user,
    callbackId: 'countersign.deny_reason',
    privateMetadata: JSON.stringify({ id, digest, channel }),
    values: { reason: { reason_input: reason } },
  });
  return postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
}
