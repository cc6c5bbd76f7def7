import type { ContextBlock, KnownBlock, SectionBlock, ConfirmationDialog } from '@slack/types';
import type { AlertJob } from '../../domain/alerts.js';
import { MODE_LABELS } from '../../domain/modes.js';
import { formatRate, successesOf } from '../../domain/promotion.js';
import { safeCode, safeText } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { count, plural } from '../../domain/format.js';
import { capMessage } from './limits.js';
import { confirmDialog } from './stakes.js';

export const ACTION_ACCEPT_PROMOTION = 'countersign.promotion_accept';
export const ACTION_DECLINE_PROMOTION = 'countersign.promotion_decline';

type Demoted = Extract<AlertJob, { kind: 'mode_demoted' }>;
type Proposed = Extract<AlertJob, { kind: 'mode_promotion_proposed' }>;

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
const scopeText = (agentId: string, scope: string) =>
  scope === '*' ? `Agent ${safeCode(agentId, 200)}` : `${safeCode(scope, 200)} of agent ${safeCode(agentId, 200)}`;

/** The automatic demotion notice, to the team channel and the agent's owner. */
export function demotionMessage(a: Demoted): SlackMessage {
  const who = scopeText(a.agentId, a.scope);
  const line = `${who} is back in *${MODE_LABELS[a.to]}* (was ${MODE_LABELS[a.from]}): ${safeText(a.reason, 500)}.`;
  const after = a.to === 'pre_action' ? 'Every such action now waits for a person before it runs.' : 'A sample of its actions is reviewed afterwards again.';
  return capMessage({
    text: `Countersign tightened ${safeCode(a.agentId, 200)}: ${MODE_LABELS[a.to]}`,
    blocks: [section(`:arrow_down: *Review mode tightened*\n${line}\n${after}`), context('Countersign tightens on its own; loosening again needs a person to accept a promotion.')],
  });
}

export interface ProposalState {
  /** Set once decided (or superseded): the card loses its buttons. */
  outcome?: { status: 'accepted' | 'declined' | 'superseded'; by: string | null };
}

/** Accepting loosens review: say what stops waiting for a person, on what record, and that it cannot be undone here. */
function acceptConfirm(p: Proposed): ConfirmationDialog {
  const who = p.scope === '*' ? safeCode(p.agentId, 102) : `${safeCode(p.scope, 62)} of ${safeCode(p.agentId, 62)}`;
  return confirmDialog({
    title: `Move ${p.agentId} to ${MODE_LABELS[p.to]}?`,
    text: `${who} moves to *${MODE_LABELS[p.to]}* on a record of ${plural(p.actions, 'action')} and ${plural(p.errors, 'error')}: its actions stop waiting for a person. This cannot be undone from here; only a demotion tightens it again.`,
    confirm: 'Accept promotion',
  });
}

/** The promotion proposal card: evidence, the bar it met, Accept / Decline. */
export function proposalMessage(p: Proposed, state: ProposalState = {}): SlackMessage {
  const who = scopeText(p.agentId, p.scope);
  const rec = { actions: p.actions, errors: p.errors };
  const blocks: KnownBlock[] = [
    section(
      `:arrow_up: *Promotion proposed*\n${who} could move from *${MODE_LABELS[p.from]}* to *${MODE_LABELS[p.to]}*.\n` +
        `Record: ${count(successesOf(rec))} successful of ${plural(p.actions, 'action')}, ${plural(p.errors, 'error')} (${formatRate(rec)}).`,
    ),
    context(`Bar met: ${safeText(p.bar, 500)}. Countersign never loosens by itself: an authorised person accepts.`),
  ];
  const o = state.outcome;
  if (!o) {
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: ACTION_ACCEPT_PROMOTION, style: 'primary', text: { type: 'plain_text', text: 'Accept' }, value: p.proposalId, confirm: acceptConfirm(p) },
        { type: 'button', action_id: ACTION_DECLINE_PROMOTION, text: { type: 'plain_text', text: 'Decline' }, value: p.proposalId },
      ],
    });
  } else if (o.status === 'accepted') blocks.push(section(`:white_check_mark: Accepted by <@${o.by}>: now in ${MODE_LABELS[p.to]}.`));
  else if (o.status === 'declined') blocks.push(section(`:no_entry_sign: Declined by <@${o.by}>: stays in ${MODE_LABELS[p.from]}.`));
  else blocks.push(section(':fast_forward: No longer applies: the mode changed before anyone decided.'));
  return capMessage({ text: `Promotion proposed: ${safeCode(p.agentId, 200)} → ${MODE_LABELS[p.to]}`, blocks });
}
