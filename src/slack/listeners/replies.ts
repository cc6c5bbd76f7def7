import type { DecideOutcome } from '../../flow/decide.js';
import { groupMention, safeCode, safeText } from '../../domain/slack-text.js';
import { slackDate } from '../cards/view-model.js';
import { quorumOf, tally } from '../../domain/quorum.js';
import type { EscalationRow } from '../../db/schema/escalations.js';

const groups = (ids: readonly string[]) => ids.map(groupMention).join(', ');

/** "1 of 2", as the card counts it. */
function progress(row: EscalationRow): { n: number; m: number; missing: string[] } {
  const t = tally(quorumOf(row), row.approvals, row.agentOwner);
  return { n: t.counted.length, m: t.required, missing: t.missingGroups };
}

/** Who approved: every counted approver of a quorum, else the one who decided. */
function approvedBy(r: EscalationRow): string {
  const users = r.approvals.length > 1 ? tally(quorumOf(r), r.approvals, r.agentOwner).counted.map((c) => c.user) : [];
  return users.length > 1 ? users.map((u) => `<@${u}>`).join(' and ') : `<@${r.decidedBy}>`;
}

/** The ephemeral line a clicker sees when their click did not decide; a refusal names the escalation's own route. */
export function outcomeReply(o: DecideOutcome): string | undefined {
  const route = o.kind === 'already' ? o.row.route : o.kind === 'refused' ? o.route : null;
  switch (o.kind) {
    case 'made':
      return undefined;
    case 'voted': {
      const { n, m, missing } = progress(o.row);
      const rest = missing.length > 0 ? `; it still needs ${m - n} from ${groups(missing)}` : `; it waits for ${m - n} more approver${m - n === 1 ? '' : 's'}`;
      return `Your approval is recorded: ${n} of ${m}${rest}. Nothing runs until then.`;
    }
    case 'already_voted': {
      const { n, m } = progress(o.row);
      return `You already approved this request (${n} of ${m}); an approver counts once, so it waits for another.`;
    }
    case 'unknown':
      return 'This escalation is unknown, so nothing was decided.';
    case 'already': {
      const r = o.row;
      if (r.status === 'expired') return `Too late: this request expired at ${r.decidedAt ? slackDate(r.decidedAt, '{time}') : 'its deadline'} and was denied (fail-safe).`;
      return `Already ${r.status} by ${r.status === 'approved' ? approvedBy(r) : `<@${r.decidedBy}>`} at ${r.decidedAt ? slackDate(r.decidedAt, '{time}') : 'an earlier time'}.`;
    }
    case 'invalid':
      return `Your edit was not approved, so nothing was decided: ${Object.entries(o.errors).map(([k, v]) => `${safeCode(k, 60)}: ${safeText(v, 300)}`).join(' ')}`;
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
        case 'approval_not_needed':
          return `Your approval would not count: this request needs approvals from different user groups, and the ones still missing are ${groups(o.missingGroups ?? [])}. Nothing was recorded.`;
      }
  }
}
