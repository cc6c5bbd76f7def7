import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { AuditRecord } from '../../domain/audit-query.js';
import { BUTTON_VALUE_MAX, MESSAGE_TEXT_TOTAL_SOFT_MAX, safeCode, safeText } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { plural, usd } from '../../domain/format.js';
import { blocksSize, capMessage } from './limits.js';

export const ACTION_AUDIT_NEXT = 'countersign.audit_next';

/** What the "Next page" button carries: the canonical query text, the cursor and the page number to show. */
export interface AuditNextValue {
  q: string;
  c: string;
  p: number;
}

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
/**
 * Twenty records of long ids and reasons run past Slack's ~13k ceiling
 * (14,529 characters measured): each page is drawn at full length, then with
 * every agent-written part cut to these fractions until it fits. The page
 * keeps all its records, so the cursor of its last one stays right.
 */
const SCALES = [1, 0.5, 0.25, 0.1] as const;
/** Below the cap of capMessage, so that it never has to drop a record. */
const AUDIT_PAGE_MAX = MESSAGE_TEXT_TOTAL_SOFT_MAX - 500;
const when = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

/** One line per record. Texts arrive redacted; everything an agent or person wrote is escaped here, each part cut to `scale` of its length. */
function recordLine(r: AuditRecord, scale: number): string {
  const n = (max: number) => Math.max(12, Math.floor(max * scale));
  const who = r.decided_by ? (USER_ID.test(r.decided_by) ? ` by <@${r.decided_by}>` : ` by ${safeText(r.decided_by, n(60))}`) : '';
  const outcome = r.outcome ? ` · outcome *${safeText(r.outcome, 20)}*${r.outcome_error ? `: ${safeText(r.outcome_error, n(200))}` : ''}` : '';
  const cost = r.cost_usd !== null ? ` · ${usd(r.cost_usd)}` : '';
  const reason = r.decision_reason ? `\n> ${safeText(r.decision_reason, n(300))}` : '';
  return (
    `\`${when(r.created_at)}\` · ${safeCode(r.agent_id ?? '—', n(200))} · ${safeCode(r.action_type ?? '—', n(100))} · *${safeText(r.status, 20)}*${who}${outcome}${cost}\n` +
    `exec ${safeCode(r.execution_id ?? '—', n(200))} · id \`${r.escalation_id}\`${reason}`
  );
}

/**
 * A page of audit search results, for the caller alone. `Next page` carries
 * the cursor; without room for it in the button, the next command is printed.
 */
export function auditResultsMessage(input: { queryText: string; records: AuditRecord[]; page: number; nextCursor?: string }): SlackMessage {
  const q = input.queryText ? safeCode(input.queryText, 1000) : 'all records';
  const head = input.records.length === 0 && input.page === 1 ? `No audit records match ${q}.` : `*Audit search* ${q}, page ${input.page} (newest first)`;
  let blocks: KnownBlock[] = [];
  for (const scale of SCALES) {
    blocks = [section(head), ...input.records.map((r) => section(recordLine(r, scale)))];
    if (input.nextCursor) {
      const value = JSON.stringify({ q: input.queryText, c: input.nextCursor, p: input.page + 1 } satisfies AuditNextValue);
      if (value.length <= BUTTON_VALUE_MAX) {
        blocks.push({ type: 'actions', elements: [{ type: 'button', action_id: ACTION_AUDIT_NEXT, text: { type: 'plain_text', text: 'Next page' }, value }] });
      } else {
        blocks.push(section(`Next page: ${safeCode(`/countersign audit ${input.queryText} cursor:${input.nextCursor}`, 2900)}`));
      }
    } else if (input.records.length > 0) {
      blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'End of results.' }] } satisfies ContextBlock);
    }
    if (blocksSize(blocks) <= AUDIT_PAGE_MAX) break;
  }
  return capMessage({ text: input.records.length === 0 ? head : `Audit search: ${plural(input.records.length, 'record')}, page ${input.page}`, blocks });
}
