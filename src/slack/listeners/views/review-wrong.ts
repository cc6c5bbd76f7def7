import type { App } from '@slack/bolt';
import { review } from '../../../flow/review.js';
import { DENY_REASON_ACTION, DENY_REASON_BLOCK, parseDenyMetadata } from '../../cards/modals.js';
import { VIEW_REVIEW_WRONG } from '../../cards/view-model.js';
import { reviewReply } from '../review-replies.js';
import type { ListenerDeps } from '../context.js';

export function registerReviewWrong(app: App, deps: ListenerDeps): void {
  app.view(VIEW_REVIEW_WRONG, async ({ ack, body, view }) => {
    const note = view.state.values[DENY_REASON_BLOCK]?.[DENY_REASON_ACTION]?.value?.trim() ?? '';
    if (note.length < 3) {
      await ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK]: 'Say what was wrong (at least 3 characters).' } });
      return;
    }
    await ack();
    const meta = parseDenyMetadata(view.private_metadata);
    if (!meta) return;
    const outcome = await review(deps, { escalationId: meta.id, digest: meta.digest, userId: body.user.id, verdict: 'wrong', note });
    const reply = reviewReply(outcome, outcome.kind === 'already' ? outcome.row.route : undefined);
    if (reply) await deps.slack.ephemeral(meta.channel, body.user.id, reply);
  });
}
