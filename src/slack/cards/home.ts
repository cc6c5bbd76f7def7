import { HEADER_TEXT_MAX, MODAL_BLOCKS_MAX, safeText } from '../../domain/slack-text.js';
import type { Escalation } from '../../domain/escalation.js';
import type { EscalationRow } from '../../db/schema/escalations.js';
import { ACTION_APPROVE, ACTION_DENY, ACTION_DETAILS, buttonValue, slackDate } from './view-model.js';

/**
 * The App Home: the approvals waiting for this person, each with its buttons.
 * Rows come redacted from the caller; the same buttons as on the card.
 */
export function homeView(pending: Array<{ row: EscalationRow; escalation: Escalation }>): object {
  const blocks: object[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Countersign'.slice(0, HEADER_TEXT_MAX) } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: pending.length ? `*${pending.length === 10 ? '10+' : pending.length} approval${pending.length === 1 ? '' : 's'} waiting for you*` : '*Nothing waiting for you.* New requests appear here and in their channels.' },
    },
  ];
  for (const { row, escalation: e } of pending) {
    const value = buttonValue(row.id, row.digest ?? '');
    const title = e.action.summary ?? `${e.agent.name} wants to run ${e.action.type}`;
    blocks.push(
      { type: 'divider' },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${safeText(title, 200)}*\n\`${e.action.type}\` by ${safeText(e.agent.name, 100)} · confidence ${e.confidence.toFixed(2)} · route \`${row.route}\`${row.deadline ? ` · expires ${slackDate(row.deadline)}` : ''}`,
        },
      },
      {
        type: 'actions',
        block_id: `home:${row.id}`,
        elements: [
          { type: 'button', action_id: ACTION_APPROVE, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value },
          { type: 'button', action_id: ACTION_DENY, style: 'danger', text: { type: 'plain_text', text: 'Deny…' }, value },
          { type: 'button', action_id: ACTION_DETAILS, text: { type: 'plain_text', text: 'Details' }, value },
        ],
      },
    );
  }
  return { type: 'home', blocks: blocks.slice(0, MODAL_BLOCKS_MAX) };
}
