import type { ActionsBlock, ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { count, duration, plural } from '../../domain/format.js';
import { safeCode, safeText, truncate } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { capMessage } from './limits.js';

/** Everything a channel digest shows; the same value renders its post and every update. */
export interface DigestView {
  /** The digest's members by action type (agent-supplied: escaped here). */
  lines: ReadonlyArray<{ actionType: string; waiting: number; total: number; oldestAt: Date | null }>;
  now: Date;
  /** Nothing in it waits any more: it says so, and new requests get cards again. */
  closed: boolean;
  /** `slack.digest.appHomeUrl`: the *Open App Home* button. */
  appHomeUrl?: string;
}

/** Message metadata of a digest message: `event_payload.digest_id` finds it again after a post whose outcome was unknown. */
export const DIGEST_METADATA_EVENT_TYPE = 'countersign_digest';

/** The digest's *Open App Home* link button: Slack still sends the click, which is only acknowledged. */
export const ACTION_DIGEST_HOME = 'countersign.digest_home';

/** Action types listed one a line; the rest are summed. */
const TYPES_SHOWN = 10;

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

const sums = (v: DigestView) => ({ waiting: v.lines.reduce((n, l) => n + l.waiting, 0), total: v.lines.reduce((n, l) => n + l.total, 0) });

/** "14 approvals waiting: oldest 3 min" (fallback text and headline alike). */
export function digestHeadline(v: DigestView): string {
  const { waiting, total } = sums(v);
  if (v.closed || waiting === 0) return `All ${plural(total, 'approval')} from this burst handled`;
  const oldest = Math.min(...v.lines.filter((l) => l.oldestAt).map((l) => l.oldestAt!.getTime()));
  const only = v.lines.filter((l) => l.waiting > 0);
  // One action type: name it ("14 × payments.refund waiting"); several: count them all.
  const what = only.length === 1 ? `${count(waiting)} × ${safeText(only[0]!.actionType, 100)}` : plural(waiting, 'approval');
  return `${what} waiting: oldest ${duration(v.now.getTime() - oldest)}`;
}

/**
 * The digest that stands in for a burst of cards in one channel: how many
 * wait, by action type, how old the oldest is, and where to decide them (App
 * Home, with the same buttons and checks as a card). Once none waits, the
 * same builder says the burst is over.
 */
export function channelDigestMessage(v: DigestView): SlackMessage {
  const headline = digestHeadline(v);
  const { waiting, total } = sums(v);
  if (v.closed || waiting === 0) {
    return capMessage({
      text: headline,
      blocks: [section(`:white_check_mark: *${headline}.*`), context('New requests in this channel get a card of their own again.')],
    });
  }
  const sorted = [...v.lines].filter((l) => l.waiting > 0).sort((a, b) => b.waiting - a.waiting || a.actionType.localeCompare(b.actionType));
  const shown = sorted.slice(0, TYPES_SHOWN).map((l) => `• ${count(l.waiting)} × ${safeCode(l.actionType, 102)}`);
  const rest = sorted.slice(TYPES_SHOWN).reduce((n, l) => n + l.waiting, 0);
  if (rest > 0) shown.push(`• ${plural(rest, 'more approval')} of ${plural(sorted.length - TYPES_SHOWN, 'other action type')}`);
  const handled = total - waiting;
  const where = v.appHomeUrl
    ? 'Decide them in App Home (the first to expire first, all of them page by page), with the same buttons and checks as a card.'
    : 'Decide them in App Home: open *Countersign* under Apps in the sidebar, *Home* tab (the first to expire first, all of them page by page), with the same buttons and checks as a card.';
  const blocks: KnownBlock[] = [
    section(`:inbox_tray: *${headline}*${handled > 0 ? ` · ${count(handled)} handled` : ''}`),
    section(truncate(shown.join('\n'), 2900)),
    context(`Too many at once for a card each here (Slack posts about one message a second per channel). ${where}`),
  ];
  if (v.appHomeUrl) {
    const actions: ActionsBlock = { type: 'actions', block_id: 'digest', elements: [{ type: 'button', action_id: ACTION_DIGEST_HOME, text: { type: 'plain_text', text: 'Open App Home' }, url: v.appHomeUrl }] };
    blocks.push(actions);
  }
  return capMessage({ text: headline, blocks });
}
