import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { safeCode, safeText, truncate } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { inertPlain } from './escalation-card.js';
import { chainFooter } from './chain-message.js';
import { capMessage } from './limits.js';
import { approveConfirm, resolvedLine, stakesLine } from './stakes.js';
import { ACTION_APPROVE, ACTION_DENY, buttonValue, type CardState } from './view-model.js';

const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

/** Everything an on-call DM shows; the same value renders the first send and the update once it is resolved. */
export interface OncallDmState {
  /** The escalation as its card shows it (masked); its status decides live or resolved. */
  card: CardState;
  route: string;
  /** Where the card is. */
  channel: string;
  /** chat.getPermalink of the card, when Slack gave one. */
  permalink?: string;
  /** The recipient may decide this route's requests: the DM carries Approve and Deny… (the card's handlers and checks). */
  canDecide: boolean;
  /** A shift change brought it to this person. */
  handoff?: boolean;
  /** Where an escalation chain stands, 1-based within the round. */
  step?: { number: number; of: number; round: number; rounds: number };
  /** When the next step or, after the last, the fail-safe outcome happens. */
  next?: { at: Date; failSafe: boolean };
  /** A hand-off brought it here: the recipient's own snooze ran out, or someone reassigned it to them. */
  reason?: { kind: 'snooze' } | { kind: 'reassigned'; by: string; note?: string };
  /** The recipient is this person's out-of-office delegate: the page was meant for them. */
  onBehalfOf?: string;
}

const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** The DM's first line: why this person is asked. */
function headOf(s: OncallDmState, where: string): string {
  const route = safeCode(s.route, 65);
  const covering = s.onBehalfOf && USER_ID.test(s.onBehalfOf) ? ` You are covering for <@${s.onBehalfOf}>, who is out of office.` : '';
  if (s.reason?.kind === 'snooze') return `:alarm_clock: Your snooze is over: an approval on route ${route} is still waiting for a decision in ${where}.${covering}`;
  if (s.reason?.kind === 'reassigned') {
    const by = USER_ID.test(s.reason.by) ? `<@${s.reason.by}>` : 'An approver';
    return `:arrow_right_hook: ${by} reassigned an approval on route ${route} to you: it is waiting for your decision in ${where}.${covering}`;
  }
  if (s.handoff) return `:arrows_counterclockwise: Your on-call shift started, and an approval is waiting for a decision in ${where}.${covering}`;
  return `:rotating_light: You are on call for route ${route}: an approval is waiting for your decision in ${where}.${covering}`;
}

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

function titleOf(c: CardState): string {
  const e = c.escalation;
  const summary = inertPlain(e.action.summary ?? '', 150).trim();
  return safeText(summary || `${e.agent.name} wants to run ${e.action.type}`, 150);
}

/**
 * The DM to the on-call person: the title, the stakes (amount, reversibility,
 * urgency, deadline), a link to the card, and Approve / Deny… when they may
 * decide. Once the escalation is over, the same builder renders it resolved:
 * who decided and when, no buttons, no next step.
 */
export function oncallDm(s: OncallDmState): SlackMessage {
  const e = s.card.escalation;
  const where = CHANNEL_ID.test(s.channel) ? `<#${s.channel}>` : 'the route’s channel';
  const link = s.permalink && /^https?:\/\//.test(s.permalink) ? `<${s.permalink}|Open the card>` : `The card is in ${where}`;
  const what = `${safeCode(e.action.type, 102)} by ${safeCode(e.agent.id, 102)} · route ${safeCode(s.route, 65)}`;
  const title = `*${titleOf(s.card)}*`;
  if (s.card.status !== 'pending') {
    const done = resolvedLine(s.card);
    return capMessage({
      text: truncate(`Resolved (${s.card.status}): ${safeText(e.action.type, 100)} by ${safeText(e.agent.id, 100)}`, 300),
      blocks: [section(done), section(`${title}\n${stakesLine(s.card)}\n${what} · ${link}`)],
    });
  }
  const head = headOf(s, where);
  const note = s.reason?.kind === 'reassigned' && s.reason.note ? `\n>${safeText(s.reason.note, 300).replace(/\n/g, '\n>')}` : '';
  const blocks: KnownBlock[] = [section(`${head}${note}`), section(`${title}\n${stakesLine(s.card, { deadline: true })}\n${what} · ${link}`)];
  if (s.canDecide) {
    const value = buttonValue(e.id, s.card.digest);
    const confirm = approveConfirm(s.card);
    blocks.push({
      type: 'actions',
      block_id: `dm:${e.id}`,
      elements: [
        { type: 'button', action_id: ACTION_APPROVE, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value, ...(confirm ? { confirm } : {}) },
        { type: 'button', action_id: ACTION_DENY, style: 'danger', text: { type: 'plain_text', text: 'Deny…' }, value },
      ],
    });
  }
  const foot = chainFooter(s);
  if (foot) blocks.push(context(foot));
  return capMessage({ text: truncate(`${head} ${safeText(e.action.type, 100)} by ${safeText(e.agent.id, 100)}`, 300), blocks });
}
