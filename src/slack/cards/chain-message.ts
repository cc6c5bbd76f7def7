import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { safeCode, safeText } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { capMessage } from './limits.js';
import { resolvedLine } from './stakes.js';
import { slackDate, type CardState } from './view-model.js';

/**
 * Whom a chain message pings. Only ids of the right shape become mentions:
 * everything else renders inert, so no field can forge a mention or a broadcast.
 */
export type Mention = { kind: 'user'; id: string; role: 'primary' | 'secondary' | 'on call' } | { kind: 'usergroup'; id: string };

export interface ChainNotice {
  /** Agent-supplied: rendered through safeText. */
  actionType: string;
  agentId: string;
  route: string;
  channel: string;
  urgency: string;
  mentions: Mention[];
  /** Step position, 1-based, counted within the round. */
  step?: { number: number; of: number; round: number; rounds: number };
  /** Why the step could not reach whom it names, as `pageOnCall` says it (the route's group and approvers are pinged instead). */
  fallback?: string;
  /** When the next step or, after the last, the fail-safe outcome happens. */
  next?: { at: Date; failSafe: boolean };
  /** A shift ended while this escalation waited (who handed over is in the record, not pinged again). */
  handoff?: boolean;
  /** Set once the escalation is over: the ping says how it ended, and pings and promises nothing more. */
  resolution?: Pick<CardState, 'status' | 'decidedBy' | 'decidedAt'>;
}

const USER = /^[UW][A-Z0-9]{2,}$/;
const GROUP = /^S[A-Z0-9]{2,}$/;

export function mentionText(m: Mention): string {
  if (m.kind === 'user') return USER.test(m.id) ? `<@${m.id}>` : '(unknown user)';
  return GROUP.test(m.id) ? `<!subteam^${m.id}>` : '(unknown group)';
}

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });
const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function what(n: ChainNotice): string {
  return `${safeCode(n.actionType, 200)} by ${safeCode(n.agentId, 200)} (urgency ${safeText(n.urgency, 20)}, route ${safeCode(n.route, 65)})`;
}

/** Where a chain stands and what happens next; shared by the thread ping and the on-call DM. */
export function chainFooter(n: Pick<ChainNotice, 'step' | 'next'>): string | undefined {
  const parts: string[] = [];
  if (n.step) parts.push(`Escalation step ${n.step.number} of ${n.step.of}${n.step.rounds > 1 ? `, round ${n.step.round} of ${n.step.rounds}` : ''}`);
  if (n.next) parts.push(n.next.failSafe ? `denied (fail-safe) ${slackDate(n.next.at, '{date_short_pretty} at {time}')} if nobody decides` : `next step ${slackDate(n.next.at, '{time}')}`);
  return parts.length ? parts.join(' · ') : undefined;
}

/** In the card's thread: the step's mentions, so each person is notified where the buttons are. */
export function chainThreadMessage(n: ChainNotice): SlackMessage {
  if (n.resolution) {
    const done = resolvedLine(n.resolution);
    return capMessage({ text: `Resolved (${n.resolution.status}): ${what(n)}`, blocks: [section(`${done}\n${what(n)}`)] });
  }
  const who = n.mentions.map(mentionText).join(' ');
  const head = n.handoff
    ? `:arrows_counterclockwise: The on-call shift changed: ${who}, this request is still waiting for a decision.`
    : `:bell: ${who}: this request is still waiting for a decision.`;
  const lines = [head];
  if (n.fallback) lines.push(`:warning: ${capitalised(safeText(n.fallback, 300))}, so the route's approvers are pinged instead.`);
  const blocks: KnownBlock[] = [section(lines.join('\n'))];
  const foot = chainFooter(n);
  if (foot) blocks.push(context(foot));
  return capMessage({ text: `${head} ${what(n)}`, blocks });
}
