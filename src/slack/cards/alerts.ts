import type { KnownBlock, SectionBlock } from '@slack/types';
import type { AlertJob } from '../../domain/alerts.js';
import { BUTTON_VALUE_MAX, escapeMrkdwn, safeCode, safeText, truncate } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { capMessage } from './limits.js';
import { demotionMessage, proposalMessage } from './mode-cards.js';
import { usdMicros } from '../../domain/format.js';
import { confirmDialog } from './stakes.js';

export const ACTION_RESUME_AGENT = 'countersign.resume_agent';

const usd = usdMicros;
const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** One pure builder per alert kind; `resumedBy` renders the paused alert after Resume. */
export function alertMessage(a: AlertJob, state: { resumedBy?: string } = {}): SlackMessage {
  switch (a.kind) {
    case 'budget_threshold': {
      const who = a.agentId ? `Agent ${safeCode(a.agentId, 200)}` : 'The organisation';
      const line =
        a.basis === 'projection'
          ? `${who} has spent ${usd(a.totalMicros)} this month: 120% of the projected monthly spend.`
          : `${who} has spent ${usd(a.totalMicros)} of its ${a.window === 'day' ? 'daily' : a.window === 'week' ? 'weekly' : a.window === 'month' ? 'monthly' : 'task'} budget of ${usd(a.capMicros ?? 0)} (${Math.round(a.level * 100)}%).`;
      return capMessage({ text: `Budget alert: ${line}`, blocks: [section(`:money_with_wings: *Budget alert*\n${line}`)] });
    }
    case 'agent_paused': {
      const id = safeCode(a.agentId, 200);
      const why = safeText(a.reason, 500);
      // Once resumed, the header says so: the card no longer reads as a live pause.
      const head = state.resumedBy
        ? `:arrow_forward: *Agent ${id} was resumed* by <@${state.resumedBy}>\nIt had been paused: ${why}. Its requests are evaluated again.`
        : `:octagonal_sign: *Agent ${id} is paused*\n${why}. Its requests are refused with \`budget_paused\` until someone resumes it.`;
      const blocks: KnownBlock[] = [section(head)];
      if (!state.resumedBy) {
        const confirm = confirmDialog({
          title: `Resume ${a.agentId}?`,
          text: `${safeCode(a.agentId, 100)} starts acting again at once, past the budget that paused it (${safeText(a.reason, 120)}). Its spend from then on cannot be undone.`,
          confirm: 'Resume agent',
        });
        blocks.push({
          type: 'actions',
          elements: [{ type: 'button', action_id: ACTION_RESUME_AGENT, style: 'primary', text: { type: 'plain_text', text: 'Resume agent' }, value: a.agentId.slice(0, BUTTON_VALUE_MAX), confirm }],
        });
      }
      return capMessage({ text: state.resumedBy ? `Agent ${id} was resumed (it had been paused: ${why})` : `Agent ${id} is paused: ${why}`, blocks });
    }
    case 'mode_demoted':
      return demotionMessage(a);
    case 'mode_promotion_proposed':
      return proposalMessage(a);
    case 'card_post_failed': {
      const where = a.cardChannel ? `<#${safeText(a.cardChannel, 40)}>` : 'its channel';
      const line = `The card for escalation \`${a.escalationId}\` could not be posted in ${where}: \`${safeText(a.error, 300)}\`. Nobody can decide it in Slack; at its deadline it is denied (fail-safe).`;
      return { text: `Card not posted: escalation ${a.escalationId} (${a.error})`, blocks: [section(`:warning: *Card not posted*\n${line}`)] };
    }
    case 'config_invalid':
      return capMessage({
        text: 'Countersign config reload refused',
        blocks: [section(`:warning: *Config reload refused*: the new file is invalid, so policy version ${safeCode(a.keptVersion, 100)} stays in force.\n\`\`\`${truncate(escapeMrkdwn(a.error, 'code'), 2500)}\`\`\``)],
      });
  }
}
