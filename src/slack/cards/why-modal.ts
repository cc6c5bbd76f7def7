import type { KnownBlock, ModalView } from '@slack/types';
import { MODAL_BLOCKS_MAX, SECTION_TEXT_MAX, chunkText, escapeMrkdwn, plainText, safeCode, safeText } from '../../domain/slack-text.js';
import { capView } from './limits.js';
import type { Explanation } from '../../domain/explanation.js';

/** The "Why?" button on decided cards; its value is the card's `id:digest`, like the other buttons. */
export const ACTION_WHY = 'countersign.why';

/** One line of agent or approver text at most this long (the full record is in `countersign explain`). */
const LINE_MAX = 1500;

/**
 * The Why? modal: the explanation's six steps, each a bold heading over its
 * lines. Every line is escaped (agent text can never mention or link), long
 * sections run over several blocks, and the whole stays under the modal's
 * block limit.
 */
export function whyModal(x: Explanation): ModalView {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: plainText(x.title, 150).trim() || 'Why?' } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `*${escapeMrkdwn(x.status)}* · escalation ${safeCode(x.escalationId, 100)} · execution ${safeCode(x.executionId ?? '?', 202)}` }] },
  ];
  x.sections.forEach((s, i) => {
    const body = s.lines.map((l) => `• ${safeText(l, LINE_MAX)}`).join('\n');
    const [first, ...more] = chunkText(`*${i + 1}. ${s.heading}*\n${body}`, SECTION_TEXT_MAX);
    blocks.push({ type: 'divider' });
    for (const text of [first, ...more]) if (text) blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  });
  if (blocks.length > MODAL_BLOCKS_MAX) {
    blocks.length = MODAL_BLOCKS_MAX - 1;
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: '_Too long for Slack: run `countersign explain` for the full record._' }] });
  }
  return capView({
    type: 'modal',
    title: { type: 'plain_text', text: 'Why?' },
    close: { type: 'plain_text', text: 'Close' },
    blocks,
  });
}
