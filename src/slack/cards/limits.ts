import type { Button, ContextBlock, HeaderBlock, HomeView, KnownBlock, ModalView, PlainTextElement, SectionBlock, TextObject } from '@slack/types';
import {
  BUTTON_TEXT_MAX,
  FIELD_TEXT_MAX,
  HEADER_TEXT_MAX,
  MESSAGE_BLOCKS_MAX,
  MESSAGE_TEXT_TOTAL_SOFT_MAX,
  MODAL_BLOCKS_MAX,
  MODAL_TITLE_MAX,
  PRIVATE_METADATA_MAX,
  SECTION_TEXT_MAX,
  DEFAULT_ELLIPSIS,
  plainText,
  truncate,
} from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';

/**
 * The last guard of every message, modal and Home view we send: each builder
 * keeps its own parts within Block Kit's limits, and this makes sure the whole
 * does too, so Slack never refuses a payload (`invalid_blocks`,
 * `msg_blocks_too_long`) and a request or reply is never lost for its length.
 * Text is shortened first, longest first; blocks go only when text cannot give more.
 */

/** A fallback `text` beside blocks is what notifications show: one screen is plenty. */
export const FALLBACK_TEXT_MAX = 3000;
/** Fields per section (Block Kit). */
const SECTION_FIELDS_MAX = 10;
/** Shortening never takes a text below this; past it, whole blocks go. */
const TEXT_FLOOR = 200;
const OMITTED_NOTE = '_Shortened to fit in Slack._';

/** Total size of the blocks as Slack receives them (JSON), the measure behind `msg_blocks_too_long`. */
export function blocksSize(blocks: readonly KnownBlock[]): number {
  return JSON.stringify(blocks).length;
}

/**
 * mrkdwn cut to `max` with an ellipsis, never inside an entity or a surrogate
 * pair (truncate), nor inside a `<…>` token the bot wrote (a mention or a
 * date): escaped agent text holds no `<`, so any open one is ours.
 */
export function truncateMrkdwn(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = truncate(s, max);
  const body = cut.endsWith(DEFAULT_ELLIPSIS) ? cut.slice(0, -DEFAULT_ELLIPSIS.length) : cut;
  const open = body.lastIndexOf('<');
  return open >= 0 && body.indexOf('>', open) < 0 ? `${body.slice(0, open)}${DEFAULT_ELLIPSIS}` : cut;
}

function limitText<T extends TextObject>(t: T, max: number): T {
  if (t.text.length <= max) return t;
  return { ...t, text: t.type === 'mrkdwn' ? truncateMrkdwn(t.text, max) : plainText(t.text, max) };
}

function limitButton(b: Button): Button {
  return { ...b, text: limitText(b.text, BUTTON_TEXT_MAX) };
}

/** One block within its own limits: section text and fields, header, context, button labels. */
export function limitBlock(b: KnownBlock): KnownBlock {
  switch (b.type) {
    case 'section': {
      const s: SectionBlock = { ...b };
      if (s.text) s.text = limitText(s.text, SECTION_TEXT_MAX);
      if (s.fields) s.fields = s.fields.slice(0, SECTION_FIELDS_MAX).map((f) => limitText(f, FIELD_TEXT_MAX));
      if (s.accessory?.type === 'button') s.accessory = limitButton(s.accessory);
      return s;
    }
    case 'header':
      return { ...b, text: limitText(b.text, HEADER_TEXT_MAX) } satisfies HeaderBlock;
    case 'context':
      return { ...b, elements: b.elements.map((e) => ('text' in e && typeof e.text === 'string' ? limitText(e as TextObject, SECTION_TEXT_MAX) : e)) } as ContextBlock;
    case 'actions':
      return { ...b, elements: b.elements.map((e) => (e.type === 'button' ? limitButton(e) : e)) };
    default:
      return b;
  }
}

/** Every text of a block that may be shortened, as [length, shorten-to] handles. */
function texts(b: KnownBlock): Array<{ length: number; shorten(max: number): void }> {
  const out: Array<{ length: number; shorten(max: number): void }> = [];
  const add = (get: () => TextObject, set: (t: TextObject) => void) => out.push({ length: get().text.length, shorten: (max) => set(limitText(get(), max)) });
  if (b.type === 'section') {
    if (b.text) add(() => b.text!, (t) => (b.text = t));
    b.fields?.forEach((_, i) => add(() => b.fields![i]!, (t) => (b.fields![i] = t)));
  } else if (b.type === 'context') {
    b.elements.forEach((e, i) => {
      if ('text' in e && typeof e.text === 'string') add(() => b.elements[i] as TextObject, (t) => (b.elements[i] = t));
    });
  }
  return out;
}

const omittedNote = (): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text: OMITTED_NOTE }] });

/**
 * Blocks within `maxBlocks` and `maxSize` (JSON characters): texts over the
 * floor are halved, longest first; then blocks other than the header and the
 * buttons go from the end, and a note says the message was shortened.
 */
export function fitBlocks(blocks: readonly KnownBlock[], maxBlocks: number, maxSize: number): KnownBlock[] {
  const limited = blocks.map(limitBlock);
  // Within bounds (nearly every card): nothing to shorten, so no copy to shorten it in.
  if (limited.length <= maxBlocks && blocksSize(limited) <= maxSize) return limited;
  // structuredClone: the handles below shorten texts in place.
  const out = structuredClone(limited);
  let dropped = false;
  const removeOne = () => {
    for (let i = out.length - 1; i > 0; i--) {
      if (out[i]!.type !== 'actions' && out[i]!.type !== 'header') {
        out.splice(i, 1);
        dropped = true;
        return true;
      }
    }
    return false;
  };
  // One place is kept for the note.
  if (out.length > maxBlocks) while (out.length > maxBlocks - 1 && removeOne());
  while (blocksSize(out) > maxSize) {
    const longest = out.flatMap(texts).reduce<ReturnType<typeof texts>[number] | undefined>((a, t) => (!a || t.length > a.length ? t : a), undefined);
    if (longest && longest.length > TEXT_FLOOR) longest.shorten(Math.max(TEXT_FLOOR, Math.floor(longest.length / 2)));
    else if (!removeOne()) break;
  }
  if (dropped) out.push(omittedNote());
  return out;
}

/** A message (post, update or reply) as Slack will take it: blocks capped, fallback text present and bounded. */
export function capMessage(m: SlackMessage): SlackMessage {
  // Room for the note fitBlocks may add.
  const blocks = m.blocks.length > 0 ? fitBlocks(m.blocks, MESSAGE_BLOCKS_MAX, MESSAGE_TEXT_TOTAL_SOFT_MAX - OMITTED_NOTE.length - 80) : [];
  const text = truncateMrkdwn(m.text, blocks.length > 0 ? FALLBACK_TEXT_MAX : MESSAGE_TEXT_TOTAL_SOFT_MAX);
  return { text, blocks };
}

/**
 * A slash-command or button reply (`respond`), plain mrkdwn or blocks, capped
 * like any message; a reply without blocks sends none.
 */
export function replyOf(out: string | SlackMessage): { text: string; blocks?: KnownBlock[] } {
  const m = capMessage(typeof out === 'string' ? { text: out, blocks: [] } : out);
  return m.blocks.length > 0 ? m : { text: m.text };
}

const limitLabel = (t: PlainTextElement): PlainTextElement => ({ ...t, text: plainText(t.text, MODAL_TITLE_MAX) });

/** A modal or the Home tab within Slack's limits: 100 blocks, 24-character labels, metadata that fits. */
export function capView<V extends ModalView | HomeView>(v: V): V {
  if ((v.private_metadata?.length ?? 0) > PRIVATE_METADATA_MAX) throw new RangeError('view private_metadata over 3,000 characters');
  const out: V = { ...v, blocks: fitBlocks(v.blocks as KnownBlock[], MODAL_BLOCKS_MAX, Number.POSITIVE_INFINITY) };
  if (out.type === 'modal') {
    const m = out as ModalView;
    if (m.title) m.title = limitLabel(m.title);
    if (m.submit) m.submit = limitLabel(m.submit);
    if (m.close) m.close = limitLabel(m.close);
  }
  return out;
}
