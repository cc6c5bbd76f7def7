import type { AuditRecord } from '../../domain/audit-query.js';
import { BUTTON_VALUE_MAX, safeText } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { plural, usd } from '../../domain/format.js';

export const ACTION_AUDIT_NEXT = 'countersign.audit_next';

/** What the "Next page" button carries: the canonical query text, the cursor and the page number to show. */
export interface AuditNextValue {
  q: string;
  c: string;
  p: number;
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const when = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/** One line per record. Texts arrive redacted; everything an agent or person wrote is escaped here. */
function recordLine(r: AuditRecord): string {
  const who = r.decided_by ? ` by <@${r.decided_by}>` : '';
  const outcome = r.outcome ? ` · outcome *${r.outcome}*${r.outcome_error ? `: ${safeText(r.outcome_error, 200)}` : ''}` : '';
  const cost = r.cost_usd !== null ? ` · ${usd(r.cost_usd)}` : '';
  const reason = r.decision_reason ? `\n> ${safeText(r.decision_reason, 300)}` : '';
  return (
    `\`${when(r.created_at)}\` · \`${safeText(r.agent_id ?? '—', 200)}\` · \`${safeText(r.action_type ?? '—', 100)}\` · *${r.status}*${who}${outcome}${cost}\n` +
    `exec \`${safeText(r.execution_id ?? '—', 200)}\` · id \`${r.escalation_id}\`${reason}`
  );
}

/**
 * A page of audit search results, for the caller alone. `Next page` carries
 * the cursor; without room for it in the button, the next command is printed.
 */
export function auditResultsMessage(input: { queryText: string; records: AuditRecord[]; page: number; nextCursor?: string }): SlackMessage {
  const q = input.queryText ? `\`${safeText(input.queryText, 1000)}\`` : 'all records';
  const head = input.records.length === 0 && input.page === 1 ? `No audit records match ${q}.` : `*Audit search* ${q}, page ${input.page} (newest first)`;
  const blocks: unknown[] = [section(head), ...input.records.map((r) => section(recordLine(r)))];
  if (input.nextCursor) {
    const value = JSON.stringify({ q: input.queryText, c: input.nextCursor, p: input.page + 1 } satisfies AuditNextValue);
    if (value.length <= BUTTON_VALUE_MAX) {
      blocks.push({ type: 'actions', elements: [{ type: 'button', action_id: ACTION_AUDIT_NEXT, text: { type: 'plain_text', text: 'Next page' }, value }] });
    } else {
      blocks.push(section(`Next page: \`/countersign audit ${safeText(input.queryText, 1500)} cursor:${input.nextCursor}\``));
    }
  } else if (input.records.length > 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'End of results.' }] });
  }
  return { text: input.records.length === 0 ? head : `Audit search: ${plural(input.records.length, 'record')}, page ${input.page}`, blocks };
}
