import { expect } from 'vitest';

/**
 * Slack's documented limits (see ../shared/slack-notes.md), checked on a
 * payload as Slack would receive it, and the marks hostile agent text must
 * never leave in anything Slack renders.
 */

/** An id a policy could list an agent under: a broadcast, a forged mention, a disguised link and a bidi override. */
export const HOSTILE_ID = '<!channel> <@U0EVIL0001> <https://evil.example|bank>\u202E';

/** What must never reach mrkdwn from agent text: none of these is ever written by the bot itself. */
const FORGED = ['<!channel', '<!here', '<!everyone', '<@U0EVIL', '<!subteam^SEVIL', '<#CEVIL', '<https://evil', '<http://evil'];
const BROADCAST = /@(channel|here|everyone)\b/i;
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;
/** Markers hostile text carries (see `hostileUnits`), which must never render as formatting. */
export const HOSTILE_FORMATTING = ['*evil bold*', '_evil italic_', '~evil strike~', '`evil code`'];

/** Message total we keep to; Slack refuses somewhere around 13k characters (msg_blocks_too_long). */
const MESSAGE_JSON_MAX = 12_000;

interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
}

type Obj = Record<string, unknown>;
const isText = (o: unknown): o is TextObject => typeof o === 'object' && o !== null && ((o as Obj).type === 'mrkdwn' || (o as Obj).type === 'plain_text') && typeof (o as Obj).text === 'string';

/** Every text object anywhere in a payload. */
function textsOf(x: unknown, out: TextObject[] = []): TextObject[] {
  if (Array.isArray(x)) for (const v of x) textsOf(v, out);
  else if (typeof x === 'object' && x !== null) {
    if (isText(x)) out.push(x);
    for (const v of Object.values(x)) textsOf(v, out);
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** No mention, broadcast, link, bidi override or formatting from agent text in what Slack renders. */
export function expectInert(payload: unknown, fallbackText?: string): void {
  const texts = textsOf(payload);
  for (const t of texts) expect(t.text, 'a text with a bidi control character').not.toMatch(BIDI);
  const mrkdwn = [...texts.filter((t) => t.type === 'mrkdwn').map((t) => t.text), ...(fallbackText !== undefined ? [fallbackText] : [])];
  for (const m of mrkdwn) {
    expect(m).not.toMatch(BIDI);
    expect(m).not.toMatch(BROADCAST);
    for (const f of FORGED) expect(m, `mrkdwn holding ${f}`).not.toContain(f);
    // Slack formats nothing inside code, and escaping keeps agent text from closing a span.
    const outsideCode = m.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
    // Slack never formats mid-word (`0~evil strike~0` shows as typed): only markers at a word boundary count.
    for (const f of HOSTILE_FORMATTING) expect(outsideCode, `mrkdwn rendering ${f}`).not.toMatch(new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(f)}(?![A-Za-z0-9])`));
  }
}

function expectButton(b: Obj): void {
  const text = b.text as TextObject;
  expect(text.type).toBe('plain_text');
  expect(text.text.length).toBeGreaterThan(0);
  expect(text.text.length).toBeLessThanOrEqual(75);
  if (b.value !== undefined) expect(String(b.value).length).toBeLessThanOrEqual(2000);
  expect(String(b.action_id ?? '').length).toBeLessThanOrEqual(255);
}

function expectBlocks(blocks: Obj[]): void {
  const blockIds = blocks.map((b) => b.block_id).filter((id) => id !== undefined);
  expect(new Set(blockIds).size, 'block_ids unique').toBe(blockIds.length);
  for (const b of blocks) {
    if (b.block_id !== undefined) expect(String(b.block_id).length).toBeLessThanOrEqual(255);
    switch (b.type) {
      case 'section': {
        const text = b.text as TextObject | undefined;
        const fields = b.fields as TextObject[] | undefined;
        expect(text !== undefined || fields !== undefined, 'a section has text or fields').toBe(true);
        if (text) {
          expect(text.text.length).toBeGreaterThan(0);
          expect(text.text.length).toBeLessThanOrEqual(3000);
        }
        if (fields) {
          expect(fields.length).toBeLessThanOrEqual(10);
          for (const f of fields) expect(f.text.length).toBeLessThanOrEqual(2000);
        }
        if (b.accessory && (b.accessory as Obj).type === 'button') expectButton(b.accessory as Obj);
        break;
      }
      case 'header': {
        const text = b.text as TextObject;
        expect(text.type).toBe('plain_text');
        expect(text.text.trim().length).toBeGreaterThan(0);
        expect(text.text.length).toBeLessThanOrEqual(150);
        break;
      }
      case 'context': {
        const elements = b.elements as TextObject[];
        expect(elements.length).toBeGreaterThan(0);
        expect(elements.length).toBeLessThanOrEqual(10);
        for (const e of elements) expect(e.text.length).toBeLessThanOrEqual(3000);
        break;
      }
      case 'actions': {
        const elements = b.elements as Obj[];
        expect(elements.length).toBeGreaterThan(0);
        expect(elements.length).toBeLessThanOrEqual(25);
        const actionIds = elements.map((e) => e.action_id);
        expect(new Set(actionIds).size, 'action_ids unique in their block').toBe(actionIds.length);
        for (const e of elements) if (e.type === 'button') expectButton(e);
        break;
      }
      case 'input': {
        const element = b.element as Obj;
        expect(String(element.action_id).length).toBeLessThanOrEqual(255);
        expect((b.label as TextObject).text.length).toBeLessThanOrEqual(2000);
        break;
      }
      case 'divider':
        break;
      default:
        throw new Error(`a block type the checks do not know: ${String(b.type)}`);
    }
  }
}

/** A message (post, update or command reply) Slack accepts, with nothing forged from agent text. */
export function expectValidMessage(m: { text: string; blocks?: unknown[] }): void {
  expect(m.text.trim().length, 'a text fallback').toBeGreaterThan(0);
  const blocks = (m.blocks ?? []) as Obj[];
  expect(blocks.length).toBeLessThanOrEqual(50);
  if (blocks.length === 0) expect(m.text.length).toBeLessThanOrEqual(MESSAGE_JSON_MAX);
  else {
    expect(m.text.length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(blocks).length, 'blocks far from msg_blocks_too_long').toBeLessThanOrEqual(MESSAGE_JSON_MAX);
  }
  expectBlocks(blocks);
  expectInert(blocks, m.text);
}

/** A modal or Home tab Slack accepts, with nothing forged from agent text. */
export function expectValidView(v: Obj): void {
  const blocks = v.blocks as Obj[];
  expect(blocks.length).toBeLessThanOrEqual(100);
  if (v.type === 'modal') {
    for (const k of ['title', 'submit', 'close'] as const) {
      const label = v[k] as TextObject | undefined;
      if (k === 'title') expect(label).toBeDefined();
      if (label) {
        expect(label.type).toBe('plain_text');
        expect(label.text.length).toBeLessThanOrEqual(24);
      }
    }
  }
  if (v.private_metadata !== undefined) expect(String(v.private_metadata).length).toBeLessThanOrEqual(3000);
  if (v.callback_id !== undefined) expect(String(v.callback_id).length).toBeLessThanOrEqual(255);
  expectBlocks(blocks);
  expectInert(blocks);
}
