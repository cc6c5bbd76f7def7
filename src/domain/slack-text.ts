/**
 * Making agent-supplied text safe to put in a Slack message.
 *
 * Everything an agent sends is untrusted. On an approval card it must not be
 * able to ping a whole channel, dress a link up as something else, or exceed a
 * Block Kit limit (Slack then rejects the entire message with `invalid_blocks`,
 * and the approval request never reaches a human).
 *
 * Every length here is in UTF-16 code units, i.e. JavaScript's `string.length`.
 */

// Block Kit limits, in characters, from https://api.slack.com/reference/block-kit.
export const SECTION_TEXT_MAX = 3000;
export const FIELD_TEXT_MAX = 2000;
export const HEADER_TEXT_MAX = 150;
export const BUTTON_TEXT_MAX = 75;
export const BUTTON_VALUE_MAX = 2000;
export const MESSAGE_BLOCKS_MAX = 50;
export const MODAL_BLOCKS_MAX = 100;
export const MODAL_TITLE_MAX = 24;
export const PRIVATE_METADATA_MAX = 3000;
/** For block_id, action_id and callback_id. */
export const ID_MAX = 255;
/**
 * Our budget for all text across one message's blocks. Slack documents no such
 * total, but rejects messages with `msg_blocks_too_long` somewhere around 13,000
 * characters (slackapi/bolt-js#2509), so we stay below it.
 */
export const MESSAGE_TEXT_TOTAL_SOFT_MAX = 12000;

/** Appended by `truncate` unless told otherwise: one code unit, so it costs little of the budget. */
export const DEFAULT_ELLIPSIS = '…';

/**
 * Zero-width and not a word character, so after `@` it stops Slack from
 * recognising `@here` as a broadcast while the text still reads the same.
 */
const WORD_JOINER = '\u2060';

/**
 * C0 and C1 control characters except tab and newline, plus the bidi
 * embeddings, overrides and isolates: those reorder what the approver sees
 * ("Trojan Source"), so an agent could make one command look like another.
 * Also the line and paragraph separators (U+2028/9, which break a line where
 * no newline shows in the source) and the interlinear annotation marks
 * (U+FFF9–FFFB, which hide the text between them in some renderers).
 */
const CONTROL_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u2028\u2029\uFFF9-\uFFFB]/g;

/**
 * Look-alikes for Slack's formatting markers (`*bold*`, `_italic_`,
 * `~strike~`, `` `code` ``). Slack has no escape for them, and whether it
 * formats across an inserted zero-width character is undocumented (and has
 * varied between clients), so the marker itself is swapped for a character
 * that reads the same but that no Slack client treats as a marker. None has a
 * compatibility decomposition, so NFKC normalisation cannot turn it back.
 */
const MARKER_LOOKALIKE: Readonly<Record<string, string>> = {
  '*': '\u2217', // ∗ ASTERISK OPERATOR
  _: '\u02CD', // ˍ MODIFIER LETTER LOW MACRON
  '~': '\u223C', // ∼ TILDE OPERATOR
  '`': '\u02CB', // ˋ MODIFIER LETTER GRAVE ACCENT
};

/**
 * A marker Slack could read as one: a backtick anywhere (it opens code even
 * mid-word), and `*`, `_`, `~` unless both neighbours are ASCII letters or
 * digits. Slack never formats mid-word (`snake_case_id` stays as it is), so
 * ids keep their underscores and still paste back into a command; a wider
 * notion of "word" would only ever swap more markers, never fewer.
 */
const MARKER = /[`*_~]/g;
const ALNUM = /^[A-Za-z0-9]$/;

/**
 * A `>` that starts a line (or the text, which may land at the start of one)
 * quotes it, escaped or not: Slack's own clients send a typed `>` as `&gt;`.
 * ˃ MODIFIER LETTER RIGHT ARROWHEAD reads the same and quotes nothing.
 */
const QUOTE = /(^|\n)([ \t]*)&gt;/g;

function neutraliseMarkers(s: string): string {
  return s
    .replace(MARKER, (m: string, i: number) => (m !== '`' && ALNUM.test(s[i - 1] ?? '') && ALNUM.test(s[i + 1] ?? '') ? m : MARKER_LOOKALIKE[m]!))
    .replace(QUOTE, '$1$2\u02C3');
}

const BROADCAST = /@(?=(?:channel|here|everyone)\b)/gi;

/**
 * An HTML-style entity as Slack decodes it. Escaped text only ever contains
 * `&amp;` `&lt;` `&gt;`, but `truncate` also guards entities already present in
 * text it did not escape itself. Longest accepted form is 10 units (`&#x10FFFF;`).
 */
const ENTITY = /&(?:[A-Za-z]{2,8}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});/y;
const ENTITY_MAX = 10;

/** Smallest `max` that `chunkText` accepts: any entity or surrogate pair must fit in one chunk. */
export const CHUNK_MIN = ENTITY_MAX;

export function stripControlChars(s: string): string {
  return s.replace(CONTROL_CHARS, '');
}

/**
 * The one escaping function for text that did not come from the bot itself
 * (agent ids, names, params, config names, what a person typed), before it
 * goes into any mrkdwn: block text, fields, context and a message's fallback
 * `text`.
 *
 * - `&`, `<`, `>` become entities, so no `<!channel>`, `<@U123>`, `<#C123>`
 *   or `<https://evil|bank>` can form;
 * - bare `@channel`, `@here` and `@everyone` get a word joiner after the `@`;
 * - control, bidi-override and isolate characters are dropped;
 * - formatting markers become look-alikes (see MARKER_LOOKALIKE), and so does
 *   a `>` that would open a quote, so the text reads as the agent wrote it
 *   instead of dressing itself up in bold, code or a quote.
 *   Inside a code span or block (`where: 'code'`) Slack formats nothing, so
 *   only the backtick, which would end the span, is swapped there.
 *
 * Not idempotent by design: escaping twice shows the first pass's entities literally.
 */
export function escapeMrkdwn(s: string, where: 'text' | 'code' = 'text'): string {
  // Control chars go first so that `@here` split by one cannot slip past BROADCAST.
  const escaped = stripControlChars(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // Markers before broadcasts: a swapped `_` no longer counts as a word character, so `@here_` is a broadcast again.
  const unformatted = where === 'code' ? escaped.replace(/`/g, MARKER_LOOKALIKE['`']!) : neutraliseMarkers(escaped);
  return unformatted.replace(BROADCAST, `@${WORD_JOINER}`);
}

/**
 * `s` cut to at most `max` units including `suffix`, never inside a surrogate
 * pair or an entity (a dangling `&am` would show as garbage). If `suffix` alone
 * is longer than `max`, the cut is made without it.
 */
export function truncate(s: string, max: number, suffix = DEFAULT_ELLIPSIS): string {
  return truncateWith(s, max, suffix, true);
}

/** Escaped for mrkdwn, then truncated so that the result (entities included) fits in `max`. */
export function safeText(s: string, max: number): string {
  return truncate(escapeMrkdwn(s), max);
}

/**
 * An inline code span of untrusted text (an id, an action type, a route):
 * on one line, escaped for code and truncated so the span, backticks
 * included, fits `max`.
 */
export function safeCode(s: string, max: number): string {
  // A line break ends an inline span in Slack, and what follows it would be formatted again.
  return `\`${truncate(escapeMrkdwn(s.replace(/[\r\n]+/g, ' '), 'code'), Math.max(0, max - 2)) || ' '}\``;
}

/**
 * For `plain_text` objects, which Slack shows verbatim: no escaping, so `&amp;`
 * is literal text and may be cut like any other.
 */
export function plainText(s: string, max: number): string {
  return truncateWith(stripControlChars(s), max, DEFAULT_ELLIPSIS, false);
}

/**
 * Splits already-escaped text into pieces of at most `max` units, to show all
 * of it across several sections of a Details modal. Breaks after the last
 * newline that fits, else after the last space, else at the last safe point.
 * Joining the pieces gives back `s`; empty text gives no pieces, since Slack
 * rejects an empty section.
 */
export function chunkText(s: string, max: number): string[] {
  assertLimit(max);
  if (max < CHUNK_MIN) {
    throw new RangeError(`chunkText: max must be at least ${CHUNK_MIN}, got ${max}`);
  }
  const chunks: string[] = [];
  let rest = s;
  while (rest.length > max) {
    const cut = breakAfter(rest, '\n', max) ?? breakAfter(rest, ' ', max) ?? safeCut(rest, max, true);
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length > 0) chunks.push(rest);
  return chunks;
}

/** End of a piece that keeps the last `sep` within the first `max` units, or undefined if none (or only at 0). */
function breakAfter(s: string, sep: string, max: number): number | undefined {
  const at = s.lastIndexOf(sep, max - 1);
  return at > 0 ? at + 1 : undefined;
}

function truncateWith(s: string, max: number, suffix: string, entities: boolean): string {
  assertLimit(max);
  if (s.length <= max) return s;
  if (suffix.length > max) return s.slice(0, safeCut(s, max, entities));
  return s.slice(0, safeCut(s, max - suffix.length, entities)) + suffix;
}

/** Largest index ≤ `limit` at which `s` can be cut without splitting a surrogate pair or (optionally) an entity. */
function safeCut(s: string, limit: number, entities: boolean): number {
  if (limit >= s.length) return s.length;
  let cut = limit;
  if (entities && cut > 0) {
    // Entities contain no `&`, so only the last one before the cut can straddle it.
    const amp = s.lastIndexOf('&', cut - 1);
    if (amp >= 0 && cut - amp < ENTITY_MAX) {
      ENTITY.lastIndex = amp;
      const m = ENTITY.exec(s);
      if (m && amp + m[0].length > cut) cut = amp;
    }
  }
  // Cutting `@here_team` after `@here` would leave a bare broadcast (escaping spared it): cut before the `@`.
  const tail = BROADCAST_TAIL.exec(s.slice(Math.max(0, cut - BROADCAST_TAIL_MAX), cut));
  if (tail) cut -= tail[0].length;
  if (cut > 0 && isHighSurrogate(s.charCodeAt(cut - 1)) && isLowSurrogate(s.charCodeAt(cut))) cut -= 1;
  return cut;
}

const BROADCAST_TAIL = /@(?:channel|here|everyone)$/i;
/** Length of `@everyone`; smaller than CHUNK_MIN, so a chunk cut moved back this far is never empty. */
const BROADCAST_TAIL_MAX = 9;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function assertLimit(max: number): void {
  if (!Number.isInteger(max) || max < 0) {
    throw new RangeError(`max must be a non-negative integer, got ${max}`);
  }
}

const USER_ID = /^[UW][A-Z0-9]{2,}$/;
const GROUP_ID = /^S[A-Z0-9]{2,}$/;

/** A Slack user id's shape (`U…`, `W…`). */
export const isUserId = (id: string) => USER_ID.test(id);
/** A Slack user group id's shape (`S…`). */
export const isGroupId = (id: string) => GROUP_ID.test(id);

/** A user's mention, built only from an id of the right shape (never from agent or typed text). */
export function userMention(id: string): string {
  return USER_ID.test(id) ? `<@${id}>` : '(unknown user)';
}

/** A user group's mention when the id has the right shape (ids come from the config); else the id as inert code. */
export function groupMention(id: string): string {
  return GROUP_ID.test(id) ? `<!subteam^${id}>` : safeCode(id, 30);
}
