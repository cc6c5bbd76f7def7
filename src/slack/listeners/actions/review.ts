import type { App, BlockButtonAction } from '@slack/bolt';
import { getEscalation } from '../../../db/queries/escalations.js';
import { review } from '../../../flow/review.js';
import { ACTION_REVIEW_OK, ACTION_REVIEW_WRONG, parseButtonValue } from '../../cards/view-model.js';
import { reviewWrongModal } from '../../cards/modals.js';
import { reviewReply } from '../review-replies.js';
import { tell, channelOf, type ListenerDeps } from '../context.js';

/** "Looks right" signs a supervised action off; "Mark wrong…" asks for a note first. */
export function registerReview(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(ACTION_REVIEW_OK, async ({ ack, body, action }) => {
    await ack();
    const target = parseButtonValue(action.value);
    const channel = channelOf(body);
    if (!target) return;
    const outcome = await review(deps, { escalationId: target.id, digest: target.digest, userId: body.user.id, verdict: 'ok', note: null });
    await tell(deps, channel, body.user.id, reviewReply(outcome));
  });

  app.action<BlockButtonAction>(ACTION_REVIEW_WRONG, async ({ ack, body, action }) => {
    await ack();
    const target = parseButtonValue(action.value);
    const channel = channelOf(body);
    if (!target || !channel) return;
    const row = await getEscalation(deps.db, target.id);
    if (!row || row.reviewState !== 'pending') {
      const reply = reviewReply(row ? { kind: 'already', row } : { kind: 'unknown' });
      if (reply) await deps.slack.ephemeral(channel, body.user.id, reply);
      return;
    }
    await deps.slack.openView(body.trigger_id, reviewWrongModal({ id: row.id, digest: target.digest, channel }, row.actionType ?? 'action'));
  });
}
