import type { VerdictOutcome } from '../../flow/batch-review.js';
import { slackDate } from '../cards/view-model.js';

/** The ephemeral line a reviewer sees when their click did not record a verdict. */
export function verdictReply(o: VerdictOutcome): string | undefined {
  switch (o.kind) {
    case 'made':
      return undefined;
    case 'unknown':
      return 'This sample item is unknown, so nothing was recorded.';
    case 'already':
      return `Already reviewed as ${o.item.verdict} by <@${o.item.reviewedBy}>${o.item.reviewedAt ? ` at ${slackDate(o.item.reviewedAt, '{time}')}` : ''}.`;
    case 'refused':
      switch (o.reason) {
        case 'own_decision':
          return 'You decided this action yourself, so you cannot review it: a batch review is a second pair of eyes. Another reviewer must. Your click was recorded and refused.';
        case 'owner_cannot_approve':
          return 'You own this agent, so you cannot mark its actions correct. Another reviewer must.';
        case 'not_a_reviewer':
          return 'Only the person who asked for this sample, or an approver of its route, can review it. Your click was recorded and refused.';
      }
  }
}
