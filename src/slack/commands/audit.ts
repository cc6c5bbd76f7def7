import { MAX_PAGE_SIZE, describeAuditErrors, formatAuditFilter, parseAuditQueryText, AUDIT_OUTCOMES } from '../../domain/audit-query.js';
import { escapeMrkdwn } from '../../domain/slack-text.js';
import { searchAudit } from '../../db/queries/audit-search.js';
import { mayReadAudit } from '../../flow/audit-access.js';
import { redactRecord } from '../../flow/audit-export.js';
import { redactorOf } from '../../domain/audit-config.js';
import type { SlackMessage } from '../../flow/ports.js';
import type { ListenerDeps } from '../listeners/context.js';
import { auditResultsMessage } from '../cards/audit-results.js';
import type { Subcommand } from './types.js';

/** Pages shown in Slack stay within a message's 50 blocks. */
const SLACK_PAGE_MAX = 20;

const USAGE =
  'Usage: `/countersign audit agent:support-agent action:payments.refund outcome:denied from:2026-11-01 to:2026-11-25 decider:U0123ABCD exec:<execution id>` ' +
  `(any of them; outcome is one of ${AUDIT_OUTCOMES.join(', ')}; dates are UTC days, \`to\` included)`;

/**
 * Runs a search for a Slack user and renders the page, or says why not.
 * Shared by the command and its "Next page" button; the cursor rides in `text`.
 */
export async function auditPage(deps: ListenerDeps, userId: string, text: string, page: number): Promise<string | SlackMessage> {
  if (!(await mayReadAudit(deps, userId))) return 'Only approvers and Countersign admins may search the audit trail.';
  const parsed = parseAuditQueryText(text);
  if (!parsed.ok) return `Cannot search for that:\n${escapeMrkdwn(describeAuditErrors(parsed.errors))}\n${USAGE}`;
  const query = { ...parsed.value, limit: Math.min(parsed.value.limit, SLACK_PAGE_MAX, MAX_PAGE_SIZE) };
  const result = await searchAudit(deps.db, query);
  const records = result.records.map(redactRecord(redactorOf(deps.config.current().config.audit)));
  const message = auditResultsMessage({ queryText: formatAuditFilter(query.filter), records, page, ...(result.nextCursor ? { nextCursor: result.nextCursor } : {}) });
  return message;
}

export const auditCommand: Subcommand = {
  name: 'audit',
  help: '`/countersign audit [agent:… action:… outcome:… from:… to:… decider:… exec:…]`: search the audit trail (approvers and admins)',
  run: ({ deps, userId, text }) => auditPage(deps, userId, text, 1),
};
