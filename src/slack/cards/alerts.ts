import type { AlertJob } from '../../domain/alerts.js';
import { toUsd } from '../../domain/budget.js';
import { safeText } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { demotionMessage, proposalMessage } from './mode-cards.js';

export const ACTION_RESUME_AGENT = 'countersign.resume_agent';

const usd = (micros: number) => `$${toUsd(micros).toFixed(2)}`;
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

/** One pure builder per alert kind; `resumedBy` renders the paused alert after Resume. */
export function alertMessage(a: AlertJob, state: { resumedBy?: string } = {}): SlackMessage {
  switch (a.kind) {
    case 'budget_threshold': {
      const who = a.agentId ? `Agent \`${safeText(a.agentId, 200)}\`` : 'The organisation';
      const line =
        a.basis === 'projection'
          ? `${who} has spent ${usd(a.totalMicros)} this month: 120% of the projected monthly spend.`
          : `${who} has spent ${usd(a.totalMicros)} of its ${a.window === 'day' ? 'daily' : a.window === 'week' ? 'weekly' : a.window === 'month' ? 'monthly' : 'task'} budget of ${usd(a.capMicros ?? 0)} (${Math.round(a.level * 100)}%).`;
      return { text: `Budget alert: ${line}`, blocks: [section(`:money_with_wings: *Budget alert*\n${line}`)] };
    }
    case 'agent_paused': {
      const id = safeText(a.agentId, 200);
      const head = `:octagonal_sign: *Agent \`${id}\` is paused*\n${safeText(a.reason, 500)}. Its requests are refused with \`budget_paused\` until someone resumes it.`;
      const blocks: unknown[] = [section(head)];
      if (state.resumedBy) blocks.push(section(`:arrow_forward: Resumed by <@${state.resumedBy}>.`));
      else {
        blocks.push({
          type: 'actions',
          elements: [{ type: 'button', action_id: ACTION_RESUME_AGENT, style: 'primary', text: { type: 'plain_text', text: 'Resume agent' }, value: a.agentId.slice(0, 2000) }],
        });
      }
      return { text: `Agent ${a.agentId} is paused: ${a.reason}`, blocks };
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
      return {
        text: 'Countersign config reload refused',
        blocks: [section(`:warning: *Config reload refused*: the new file is invalid, so policy version \`${a.keptVersion}\` stays in force.\n\`\`\`${safeText(a.error, 2500)}\`\`\``)],
      };
  }
}
