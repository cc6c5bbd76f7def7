import type { KnownBlock, ModalView, Overflow } from '@slack/types';
import { PRIVATE_METADATA_MAX, safeCode, userMention } from '../../domain/slack-text.js';
import { capView } from './limits.js';
import { slackDate, type CardHandoff } from './view-model.js';

/** The card's one overflow menu of hand-offs: Snooze and Reassign…. */
export const ACTION_HANDOFF = 'countersign.handoff';
export const VIEW_REASSIGN = 'countersign.reassign';
export const REASSIGN_BLOCK = 'assignee';
export const REASSIGN_ACTION = 'assignee_input';
export const REASSIGN_NOTE_BLOCK = 'note';
export const REASSIGN_NOTE_ACTION = 'note_input';

export type HandoffChoice = 'snooze' | 'reassign';


/** An option's value binds it to the escalation and the request shown, like the buttons': `snooze:<id>:<digest>`. */
export function handoffValue(choice: HandoffChoice, id: string, digest: string): string {
  return `${choice}:${id}:${digest}`;
}

export function parseHandoffValue(value: string | undefined): { choice: HandoffChoice; id: string; digest: string } | undefined {
  const m = /^(snooze|reassign):([0-9a-f-]{36}):([0-9a-f]{64})$/i.exec(value ?? '');
  return m ? { choice: m[1] as HandoffChoice, id: m[2]!, digest: m[3]! } : undefined;
}

/** The overflow menu, appended after the card's buttons while it waits for a decision. */
export function handoffMenu(id: string, digest: string, snoozeMinutes = 30): Overflow {
  return {
    type: 'overflow',
    action_id: ACTION_HANDOFF,
    options: [
      { text: { type: 'plain_text', text: `Snooze ${snoozeMinutes} min` }, value: handoffValue('snooze', id, digest) },
      { text: { type: 'plain_text', text: 'Reassign…' }, value: handoffValue('reassign', id, digest) },
    ],
  };
}

/** The card's hand-off line while it waits: who it was reassigned to, and the latest snooze. Empty: none. */
export function handoffLine(h: CardHandoff | undefined): string | undefined {
  if (!h) return undefined;
  const parts: string[] = [];
  if (h.assignee) {
    const behalf = h.assignee.onBehalfOf ? ` (for ${userMention(h.assignee.onBehalfOf)})` : '';
    parts.push(`:arrow_right_hook: Reassigned to ${userMention(h.assignee.to)} by ${userMention(h.assignee.by)}${behalf} at ${slackDate(h.assignee.at, '{time}')}`);
  }
  if (h.snooze) parts.push(`:zzz: Snoozed by ${userMention(h.snooze.by)} until ${slackDate(h.snooze.until, '{time}')}; the deadline is unchanged`);
  return parts.length > 0 ? parts.join('\n') : undefined;
}

export interface ReassignMetadata {
  id: string;
  digest: string;
  channel: string;
}

/** Reassign…: pick an approver of the route; bound by its metadata to one escalation and digest. */
export function reassignModal(meta: ReassignMetadata, s: { actionType: string; route: string }): ModalView {
  const privateMetadata = JSON.stringify(meta);
  if (privateMetadata.length > PRIVATE_METADATA_MAX) throw new Error('reassign modal metadata too long');
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `Hand ${safeCode(s.actionType, 102)} to another approver of route ${safeCode(s.route, 65)}. They get a DM with the card; the deadline is unchanged.` } },
    {
      type: 'input',
      block_id: REASSIGN_BLOCK,
      label: { type: 'plain_text', text: 'Approver' },
      element: { type: 'users_select', action_id: REASSIGN_ACTION, placeholder: { type: 'plain_text', text: 'Who should decide?' } },
    },
    {
      type: 'input',
      block_id: REASSIGN_NOTE_BLOCK,
      optional: true,
      label: { type: 'plain_text', text: 'Note' },
      element: { type: 'plain_text_input', action_id: REASSIGN_NOTE_ACTION, max_length: 300, placeholder: { type: 'plain_text', text: 'Why them? (shown in their DM)' } },
    },
  ];
  return capView({
    type: 'modal',
    callback_id: VIEW_REASSIGN,
    private_metadata: privateMetadata,
    title: { type: 'plain_text', text: 'Reassign' },
    submit: { type: 'plain_text', text: 'Reassign' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  });
}

export function parseReassignMetadata(raw: string | undefined): ReassignMetadata | undefined {
  try {
    const v = JSON.parse(raw ?? '') as Partial<ReassignMetadata>;
    if (typeof v.id === 'string' && typeof v.digest === 'string' && typeof v.channel === 'string') return { id: v.id, digest: v.digest, channel: v.channel };
  } catch {
    // metadata we did not write
  }
  return undefined;
}
