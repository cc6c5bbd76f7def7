import { createRedactor } from '../domain/redact.js';
import type { Escalation } from '../domain/escalation.js';
import type { Status } from '../domain/decision.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import type { CardState } from '../slack/cards/view-model.js';

const redactor = createRedactor();

/** What the card shows for a stored row: the request with PII masked, and its state. */
export function cardStateOf(row: EscalationRow): CardState {
  const escalation = redactor.value(row.request as Escalation);
  return {
    escalation,
    digest: row.digest ?? '',
    route: row.route ?? 'default',
    deadline: row.deadline ?? row.createdAt,
    status: row.status as Status,
    decidedBy: row.decidedBy,
    decidedAt: row.decidedAt,
    reason: row.decisionReason ? redactor.text(row.decisionReason) : null,
    failSafe: row.failSafe,
    whyHuman: [`\`${escalation.action.type}\` needs approval on route \`${row.route}\``],
  };
}
