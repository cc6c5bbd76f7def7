import type { KnownBlock, ModalView, SectionBlock } from '@slack/types';
import { MODAL_BLOCKS_MAX, PRIVATE_METADATA_MAX, SECTION_TEXT_MAX, chunkText, escapeMrkdwn, safeCode, safeText, truncate } from '../../domain/slack-text.js';
import { capView } from './limits.js';
import { VIEW_DENY_REASON, VIEW_REVIEW_WRONG, formatUsd, slackDate, type CardState } from './view-model.js';
import { plural } from '../../domain/format.js';

export const DENY_REASON_BLOCK = 'reason';
export const DENY_REASON_ACTION = 'reason_input';

export interface DenyMetadata {
  id: string;
  digest: string;
  /** Where the click came from, for the clicker's reply; '' from App Home, where there is none. */
  channel: string;
}

interface ReasonModalText {
  callbackId: string;
  title: string;
  submit: string;
  intro: string;
  placeholder: string;
}

/** A modal asking for a reason, bound by its metadata to one escalation and digest. */
function reasonModal(meta: DenyMetadata, t: ReasonModalText): ModalView {
  const privateMetadata = JSON.stringify(meta);
  if (privateMetadata.length > PRIVATE_METADATA_MAX) throw new Error('reason modal metadata too long');
  return capView({
    type: 'modal',
    callback_id: t.callbackId,
    private_metadata: privateMetadata,
    title: { type: 'plain_text', text: t.title },
    submit: { type: 'plain_text', text: t.submit },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: t.intro } },
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK,
        label: { type: 'plain_text', text: 'Reason' },
        element: {
          type: 'plain_text_input',
          action_id: DENY_REASON_ACTION,
          multiline: true,
          min_length: 3,
          max_length: 2000,
          placeholder: { type: 'plain_text', text: t.placeholder },
        },
      },
    ],
  });
}

export function denyModal(meta: DenyMetadata, actionType: string): ModalView {
  return reasonModal(meta, {
    callbackId: VIEW_DENY_REASON,
    title: 'Deny request',
    submit: 'Deny',
    intro: `You are denying ${safeCode(actionType, 102)}. The agent receives your reason.`,
    placeholder: 'What should the agent do instead?',
  });
}

/** A short answer to a click made where no message can be posted (App Home): a modal with only a Close. */
export function noticeModal(title: string, text: string): ModalView {
  return capView({
    type: 'modal',
    title: { type: 'plain_text', text: title },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, SECTION_TEXT_MAX) } }],
  });
}

/** Marking a supervised action wrong: the agent is told to compensate, with this note. */
export function reviewWrongModal(meta: DenyMetadata, actionType: string): ModalView {
  return reasonModal(meta, {
    callbackId: VIEW_REVIEW_WRONG,
    title: 'Mark as wrong',
    submit: 'Mark wrong',
    intro: `${safeCode(actionType, 102)} already ran. Marking it wrong tells the agent to compensate or revert, and counts as an error.`,
    placeholder: 'What was wrong, and what should be undone?',
  });
}

export function parseDenyMetadata(raw: string | undefined): DenyMetadata | undefined {
  try {
    const v = JSON.parse(raw ?? '') as Partial<DenyMetadata>;
    if (typeof v.id === 'string' && typeof v.digest === 'string' && typeof v.channel === 'string') {
      return { id: v.id, digest: v.digest, channel: v.channel };
    }
  } catch {
    // fall through: metadata we did not write
  }
  return undefined;
}

/** Long text is never lost: every part is split across as many sections as it needs. */
function longSections(title: string, text: string): SectionBlock[] {
  const chunks = chunkText(escapeMrkdwn(text) || '—', SECTION_TEXT_MAX - title.length - 4);
  return chunks.map((c, i): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text: i === 0 ? `*${title}*\n${c}` : c } }));
}

/** The full context of an escalation, shown by the Details button. */
export function detailsModal(s: CardState): ModalView {
  const e = s.escalation;
  const facts = [
    `*Escalation* \`${e.id}\` · *execution* ${safeCode(e.executionId, 202)}`,
    `*Agent* ${safeText(e.agent.name, 200)} (${safeCode(e.agent.id, 202)}) · owner <@${e.agent.owner}>`,
    `*Model* ${safeText(`${e.agent.model} ${e.agent.modelVersion}`, 300)} · *prompt* ${safeText(e.agent.promptVersion, 200)}`,
    `*Tools* ${safeText(Object.entries(e.agent.toolVersions).map(([k, v]) => `${k}@${v}`).join(', ') || '—', 1000)}`,
    `*Action* ${safeCode(e.action.type, 102)} (${e.action.reversible ? 'reversible' : 'irreversible'}) · *issue type* ${safeText(e.issueType, 100)} · *urgency* ${e.urgency}`,
    `*Confidence* ${e.confidence.toFixed(2)} · *cost* ${formatUsd(e.cost.usd)}, ${plural(e.cost.tokens, 'token')}`,
    // Once decided, when and by whom replaces the deadline, as on the card.
    `${s.status === 'pending' ? `*Deadline* ${slackDate(s.deadline)}` : `*Decided* ${s.decidedAt ? slackDate(s.decidedAt) : '—'}${s.decidedBy && /^[UW][A-Z0-9]{2,}$/.test(s.decidedBy) ? ` by <@${s.decidedBy}>` : ''}`} · *route* ${safeCode(s.route, 65)} · *status* ${s.status}`,
    `*Request digest* \`${s.digest}\``,
  ].join('\n');
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: facts.slice(0, SECTION_TEXT_MAX) } },
    ...longSections('Params', JSON.stringify(e.action.params, null, 2)),
    ...longSections(`Trigger (${e.trigger.kind}${e.trigger.source ? `, ${escapeMrkdwn(e.trigger.source)}` : ''})`, e.trigger.input),
    ...longSections('Reasoning', e.reasoning),
    ...longSections('Attempted', e.handoff.attempted),
    ...longSections('Failed', e.handoff.failed),
    ...longSections('Gathered', e.handoff.gathered),
    ...longSections('Recommendation', e.handoff.recommendation),
  ];
  if (blocks.length > MODAL_BLOCKS_MAX) {
    blocks.length = MODAL_BLOCKS_MAX - 1;
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Truncated at Slack’s 100-block limit.' }] });
  }
  return capView({
    type: 'modal',
    title: { type: 'plain_text', text: 'Escalation details' },
    close: { type: 'plain_text', text: 'Close' },
    blocks,
  });
}
