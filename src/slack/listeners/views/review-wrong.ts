import type { App } from '@slack/bolt';
import { review } from '../../../flow/review.js';
import { DENY_REASON_ACTION, DENY_REASON_BLOCK, parseDenyMetadata } from '../../cards/modals.js';
import { VIEW_REVIEW_WRONG } from '../../cards/view-model.js';
import { reviewReply } from '../review-replies.js';
import { reasonInput, tell, type ListenerDeps } from '../context.js';

export function registerReviewWrong(app: App, deps: ListenerDeps): void {
  app.view(VIEW_REVIEW_WRONG, async ({ ack, body, view }) => {
    const note = reasonInput(view, DENY_REASON_BLOCK, DENY_REASON_ACTION);
    if (note.length < 3) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: 'Say what was wrong (at least 3 characters).' } });
      return;
    }
    await ack();
    const meta = parseDenyMetadata(view.private_metadata);
    if (!meta) return;
    const outcome = await review(deps, { escalationId: meta.id, digest: meta.digest, userId: body.user.id, verdict: 'wrong', note });
    await tell(deps, meta.channel, body.user.id, reviewReply(outcome));
  });
}
