import type { ConfirmationDialog } from '@slack/types';
import { usd } from '../../domain/format.js';
import { plainText, safeCode, safeText, truncate } from '../../domain/slack-text.js';
import { slackDate, type CardState } from './view-model.js';

/** Slack's limits for a confirm object: title, confirm and deny are plain_text. */
const CONFIRM_TITLE_MAX = 100;
const CONFIRM_TEXT_MAX = 300;
const CONFIRM_BUTTON_MAX = 30;

/** A Block Kit confirm dialog, cut to Slack's limits (mrkdwn text, so mentions stay inert through safeText upstream). */
export function confirmDialog(d: { title: string; text: string; confirm: string; deny?: string }): ConfirmationDialog {
  return {
    title: { type: 'plain_text', text: plainText(d.title, CONFIRM_TITLE_MAX) },
    text: { type: 'mrkdwn', text: truncate(d.text, CONFIRM_TEXT_MAX) },
    confirm: { type: 'plain_text', text: plainText(d.confirm, CONFIRM_BUTTON_MAX) },
    deny: { type: 'plain_text', text: plainText(d.deny ?? 'Cancel', CONFIRM_BUTTON_MAX) },
    style: 'danger' as const,
  };
}

/** An action's own amount, as people write it: $8,200.00 (the shared number forms). */
export const amountText = (dollars: number): string => usd(dollars);

/** Approve asks first when it cannot be taken back or the stakes are high: irreversible, a high-stakes trigger, or `critical`. */
export function needsConfirm(s: Pick<CardState, 'escalation' | 'highStakes'>): boolean {
  return !s.escalation.action.reversible || s.highStakes === true || s.escalation.urgency === 'critical';
}

/** The Approve button's dialog: the action, the amount, and that it cannot be undone. */
export function approveConfirm(s: Pick<CardState, 'escalation' | 'highStakes' | 'amountUsd'>): ConfirmationDialog | undefined {
  if (!needsConfirm(s)) return undefined;
  const e = s.escalation;
  const amount = s.amountUsd !== undefined ? ` of ${amountText(s.amountUsd)}` : '';
  const what = `${safeCode(e.action.type, 102)}${amount}`;
  const why = [e.action.reversible ? '' : 'irreversible', s.highStakes ? 'high stakes' : '', e.urgency === 'critical' ? 'critical' : ''].filter(Boolean).join(', ');
  const text = e.action.reversible
    ? `Approve ${what} (${why})? The agent runs it at once: this approval cannot be undone.`
    : `Approve ${what}? It is irreversible: once the agent runs it, it cannot be undone.`;
  return confirmDialog({ title: `Approve ${amount ? `${amountText(s.amountUsd!)} ` : ''}${e.action.type}?`, text, confirm: 'Approve', deny: 'Cancel' });
}

const URGENCY: Record<string, string> = { critical: ':red_circle: *critical*', high: ':large_orange_circle: *high* urgency', normal: 'normal urgency', low: 'low urgency' };
export const urgencyText = (u: string): string => URGENCY[u] ?? `${safeText(u, 20)} urgency`;

/**
 * The stakes, in one line a person reads first: amount, reversibility,
 * urgency, then (while it waits) why a human is needed and the deadline.
 */
export function stakesLine(s: CardState, opts: { why?: boolean; deadline?: boolean } = {}): string {
  const e = s.escalation;
  const parts: string[] = [];
  if (s.amountUsd !== undefined) parts.push(`*${amountText(s.amountUsd)}*`);
  parts.push(e.action.reversible ? 'reversible' : '*irreversible*', urgencyText(e.urgency));
  const label = s.review ? 'reviewed because' : s.status === 'pending' ? 'needs a human:' : 'why:';
  if (opts.why && s.whyHuman.length > 0) parts.push(`${label} ${s.whyHuman.map((w) => safeText(w, 200)).join('; ')}`);
  if (opts.deadline) parts.push(s.review ? `review by ${slackDate(s.review.due)}` : `decide by ${slackDate(s.deadline)}`);
  return parts.join(' · ');
}

/** How an escalation ended, for the messages that asked about it: "Resolved: approved by @x at 10:52". */
export function resolvedLine(s: Pick<CardState, 'status' | 'decidedBy' | 'decidedAt'>): string {
  const at = s.decidedAt ? ` ${slackDate(s.decidedAt, '{date_short_pretty} at {time}')}` : '';
  const by = s.decidedBy && /^[UW][A-Z0-9]{2,}$/.test(s.decidedBy) ? ` by <@${s.decidedBy}>` : '';
  switch (s.status) {
    case 'approved':
      return `:white_check_mark: *Resolved: approved*${by}${at}`;
    case 'denied':
      return `:no_entry: *Resolved: denied*${by}${at}`;
    case 'expired':
      return `:hourglass: *Resolved: expired*${at}: nobody decided in time, so it was denied (fail-safe)`;
    default:
      return `*Resolved: ${s.status}*${at}`;
  }
}
