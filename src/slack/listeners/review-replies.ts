import type { ReviewOutcome } from '../../flow/review.js';
import { slackDate } from '../cards/view-model.js';
import { outcomeReply } from './replies.js';

/** The ephemeral line a reviewer sees when their click did not record a review. */
export function reviewReply(o: ReviewOutcome): string | undefined {
  if (o.kind === 'made') return undefined;
  if (o.kind === 'already') {
    const r = o.row;
    const when = r.reviewedAt ? slackDate(r.reviewedAt, '{time}') : 'an earlier time';
    return `Already reviewed as ${r.reviewState === 'ok' ? 'right' : 'wrong'} by <@${r.reviewedBy}> at ${when}.`;
  }
  if (o.kind === 'refused' && o.reason === 'owner_cannot_approve') return 'You own this agent, so you cannot sign off its actions. Another reviewer must.';
  return outcomeReply(o);
}
