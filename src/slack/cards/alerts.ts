import type { KnownBlock, SectionBlock } from '@slack/types';
import type { AlertJob } from '../../domain/alerts.js';
import { toUsd } from '../../domain/budget.js';
import { BUTTON_VALUE_MAX, escapeMrkdwn, safeCode, safeText, truncate } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { capMessage } from './limits.js';
import { demotionMessage, proposalMessage } from './mode-cards.js';

export const ACTION_RESUME_AGENT = 'countersign.resume_agent';

const usd = (micros: number) => `$${toUsd(micros).toFixed(2)}`;
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
      const reason = safeText(a.reason, 500);
      const head = `:octagonal_sign: *Agent ${id} is paused*\n${reason}. Its requests are refused with \`budget_paused\` until someone resumes it.`;
      const blocks: KnownBlock[] = [section(head)];
      if (state.resumedBy) blocks.push(section(`:arrow_forward: Resumed by <@${state.resumedBy}>.`));
      else {
        blocks.push({
          type: 'actions',
          elements: [{ type: 'button', action_id: ACTION_RESUME_AGENT, style: 'primary', text: { type: 'plain_text', text: 'Resume agent' }, value: a.agentId.slice(0, BUTTON_VALUE_MAX) }],
        });
      }
      return capMessage({ text: `Agent ${id} is paused: ${reason}`, blocks });
    }
    case 'mode_demoted':
      return demotionMessage(a);
    case 'mode_promotion_proposed':
      return proposalMessage(a);
    case 'config_invalid':
      return capMessage({
        text: 'Countersign config reload refused',
        blocks: [section(`:warning: *Config reload refused*: the new file is invalid, so policy version ${safeCode(a.keptVersion, 100)} stays in force.\n\`\`\`${truncate(escapeMrkdwn(a.error, 'code'), 2500)}\`\`\``)],
      });
  }
}
