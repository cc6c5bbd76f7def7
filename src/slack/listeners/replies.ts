import type { DecideOutcome } from '../../flow/decide.js';
import { safeCode } from '../../domain/slack-text.js';
import { slackDate } from '../cards/view-model.js';

/** The ephemeral line a clicker sees when their click did not decide; a refusal names the escalation's own route. */
export function outcomeReply(o: DecideOutcome): string | undefined {
  const route = o.kind === 'already' ? o.row.route : o.kind === 'refused' ? o.route : null;
  switch (o.kind) {
    case 'made':
      return undefined;
    case 'unknown':
      return 'This escalation is unknown, so nothing was decided.';
    case 'already': {
      const r = o.row;
      if (r.status === 'expired') return `Too late: this request expired at ${r.decidedAt ? slackDate(r.decidedAt, '{time}') : 'its deadline'} and was denied (fail-safe).`;
      return `Already ${r.status} by <@${r.decidedBy}> at ${r.decidedAt ? slackDate(r.decidedAt, '{time}') : 'an earlier time'}.`;
    }
    case 'invalid':
      return `Your edit was not approved, so nothing was decided: ${Object.entries(o.errors).map(([k, v]) => `${safeCode(k, 60)}: ${v}`).join(' ')}`;
    case 'refused':
      switch (o.reason) {
        case 'owner_cannot_approve':
          return 'You own this agent, so you cannot approve its actions. Another approver must decide.';
        case 'not_an_approver':
          return `You are not an approver for route ${safeCode(route ?? '?', 65)}, so your click was recorded and refused.`;
        case 'request_changed':
          return 'This card no longer matches the request it was shown for. Nothing was decided.';
        case 'no_route':
          return `Route ${safeCode(route ?? '?', 65)} is no longer configured, so nobody can decide this request here.`;
      }
  }
}
