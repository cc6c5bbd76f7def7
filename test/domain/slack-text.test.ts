import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUTTON_TEXT_MAX, BUTTON_VALUE_MAX, CHUNK_MIN, FIELD_TEXT_MAX, HEADER_TEXT_MAX, ID_MAX, MESSAGE_BLOCKS_MAX,
  MESSAGE_TEXT_TOTAL_SOFT_MAX, MODAL_BLOCKS_MAX, MODAL_TITLE_MAX, PRIVATE_METADATA_MAX, SECTION_TEXT_MAX,
  chunkText, escapeMrkdwn, plainText, safeCode, safeText, stripControlChars, truncate,
} from '../../src/domain/slack-text.js';
import { mrkdwnToHtml } from '../../src/sandbox/mrkdwn.js';

const WJ = '\u2060';
const MENTION = /@(channel|here|everyone)\b/i;
/** After escaping, every `&` must begin one of these; anything else is a dangling entity. */
const WHOLE_ENTITIES = /&(?!amp;|lt;|gt;)/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Pieces an attacker would try, mixed with arbitrary text, control chars and astral characters. */
const hostileUnit = fc.oneof(
  fc.constantFrom(
    '<!channel>', '<!here>', '<!everyone>', '<!subteam^S123>', '<@U123>', '<#C123>', '<https://evil|bank>',
    '@channel', '@HERE', '@Everyone', '@', 'channel', 'here', '<', '>', '&', '&amp;', '&lt;', '!', '|',
    '\u0000', '\u0007', '\r', '\n', '\t', '\u202E', '\u0085', '😀', '👩‍👩‍👧', '*', '_', '~', '`', 'a',
  ),
  fc.string({ unit: 'binary', maxLength: 3 }),
);
const hostile = fc.string({ unit: hostileUnit, maxLength: 60 });

describe('Block Kit limits', () => {
  it('match the numbers in Slack’s Block Kit reference', () => {
    expect({
      SECTION_TEXT_MAX, FIELD_TEXT_MAX, HEADER_TEXT_MAX, BUTTON_TEXT_MAX, BUTTON_VALUE_MAX, MESSAGE_BLOCKS_MAX,
      MODAL_BLOCKS_MAX, MODAL_TITLE_MAX, PRIVATE_METADATA_MAX, ID_MAX, MESSAGE_TEXT_TOTAL_SOFT_MAX,
    }).toEqual({
      SECTION_TEXT_MAX: 3000, FIELD_TEXT_MAX: 2000, HEADER_TEXT_MAX: 150, BUTTON_TEXT_MAX: 75, BUTTON_VALUE_MAX: 2000,
      MESSAGE_BLOCKS_MAX: 50, MODAL_BLOCKS_MAX: 100, MODAL_TITLE_MAX: 24, PRIVATE_METADATA_MAX: 3000, ID_MAX: 255,
      MESSAGE_TEXT_TOTAL_SOFT_MAX: 12000,
    });
  });
});

describe('escapeMrkdwn', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<!here>', '&lt;!here&gt;'],
    ['<!everyone>', '&lt;!everyone&gt;'],
    ['<!subteam^S123>', '&lt;!subteam^S123&gt;'],
    ['<@U123>', '&lt;@U123&gt;'],
    ['<#C123>', '&lt;#C123&gt;'],
    ['<https://evil|bank>', '&lt;https://evil|bank&gt;'],
  ])('turns %s into inert text', (input, expected) => {
    expect(escapeMrkdwn(input)).toBe(expected);
  });

  it.each(['@channel', '@here', '@everyone', '@HERE', '@Channel'])('defuses a bare %s with a word joiner', (input) => {
    expect(escapeMrkdwn(`ping ${input}!`)).toBe(`ping @${WJ}${input.slice(1)}!`);
  });

  it('leaves handles that merely start with a broadcast word alone', () => {
    expect(escapeMrkdwn('@channels @here_team @hereford')).toBe('@channels @here_team @hereford');
  });

  it('escapes an ampersand, including one that already starts an entity', () => {
    expect(escapeMrkdwn('R&D &amp; QA')).toBe('R&amp;D &amp;amp; QA');
  });

  it('keeps newlines, tabs and emoji', () => {
    const s = 'line 1\n\tplain 😀';
    expect(escapeMrkdwn(s)).toBe(s);
  });

  it('swaps formatting markers for look-alikes, so an agent cannot dress up its text', () => {
    expect(escapeMrkdwn('Support Agent *bold* _it_ ~s~ `code`')).toBe('Support Agent ∗bold∗ ˍitˍ ∼s∼ ˋcodeˋ');
  });

  it('leaves a marker between two letters or digits alone, since Slack never formats mid-word', () => {
    expect(escapeMrkdwn('billing_agent_v2 a*b x~y')).toBe('billing_agent_v2 a*b x~y');
    expect(escapeMrkdwn('_lead trail_ a__b')).toBe('ˍlead trailˍ aˍˍb');
  });

  it('swaps a > that would open a quote, at the start of the text or of a line, but not inside one', () => {
    expect(escapeMrkdwn('> a\n  > b\nc > d')).toBe('˃ a\n  ˃ b\nc &gt; d');
  });

  it('keeps a masked email inside a bold title from breaking the bold', () => {
    expect(`*${escapeMrkdwn('Grant billing-admin to j***@example.com')}*`).toBe('*Grant billing-admin to j∗∗∗@example.com*');
  });

  it('swaps only the backtick inside a code span, where Slack formats nothing else', () => {
    expect(escapeMrkdwn('payments.* a_b `x` <!here>', 'code')).toBe('payments.* a_b ˋxˋ &lt;!here&gt;');
  });

  it('strips control characters, carriage returns and bidi overrides', () => {
    expect(escapeMrkdwn('a\u0000b\u0007c\r\nd\u001Be\u0085f\u202Eg\u2066h')).toBe('abc\ndefgh');
  });

  it('strips every bidi embedding, override and isolate, and the line separators', () => {
    const bidi = '\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u2028\u2029\uFFF9\uFFFA\uFFFB';
    expect(escapeMrkdwn(`a${bidi}b`)).toBe('ab');
  });

  it('catches a broadcast that a control character tried to split', () => {
    expect(escapeMrkdwn('@he\u0000re')).toBe(`@${WJ}here`);
  });

  it('never leaves a < or > or a broadcast mention, whatever the input', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const out = escapeMrkdwn(s);
        expect(out).not.toMatch(/[<>`\u202A-\u202E\u2066-\u2069]/);
        expect(out).not.toMatch(MENTION);
        expect(out).not.toMatch(WHOLE_ENTITIES);
        // A marker survives only between two ASCII letters or digits.
        expect(out).not.toMatch(/(?<![A-Za-z0-9])[*_~]|[*_~](?![A-Za-z0-9])/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('escapeMrkdwn, rendered', () => {
  it('formats, links and mentions nothing in the sandbox’s Slack renderer, even wrapped in the bot’s own bold', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const html = mrkdwnToHtml(`*${escapeMrkdwn(s)}* \`${escapeMrkdwn(s, 'code').replace(/\n/g, ' ')}\``);
        expect(html.replace(/^<b>|<\/b>(?= <code>)/g, '')).not.toMatch(/<(b|i|s|a|pre|blockquote|time)[ >]|class="mention"/);
        expect(html.match(/<code>/g) ?? []).toHaveLength(html.includes('<code>') ? 1 : 0);
      }),
      { numRuns: 500 },
    );
  });
});

describe('stripControlChars', () => {
  it('keeps ordinary text, tabs and newlines', () => {
    expect(stripControlChars('a\tb\nc ü 😀')).toBe('a\tb\nc ü 😀');
  });
});

describe('truncate', () => {
  it('returns text that fits unchanged, even at exactly max', () => {
    expect(truncate('hello', 10)).toBe('hello');
    expect(truncate('hello', 5)).toBe('hello');
  });

  it('counts the ellipsis within max', () => {
    expect(truncate('hello world', 6)).toBe('hello…');
  });

  it('accepts a custom or empty suffix', () => {
    expect(truncate('hello world', 8, ' [..]')).toBe('hel [..]');
    expect(truncate('hello world', 5, '')).toBe('hello');
  });

  it('drops a suffix longer than max rather than exceed it', () => {
    expect(truncate('hello world', 3, '(more)')).toBe('hel');
  });

  it('returns an empty string for max 0', () => {
    expect(truncate('hello', 0)).toBe('');
  });

  it('rejects a negative or fractional max', () => {
    expect(() => truncate('x', -1)).toThrow(RangeError);
    expect(() => truncate('x', 1.5)).toThrow(RangeError);
  });

  it('never splits a surrogate pair', () => {
    // '😀' is two code units; a cut after 'a' plus one unit would orphan its high half.
    expect(truncate('a😀b', 3)).toBe('a…');
  });

  it.each([
    ['&amp;&amp;&amp;', 8, '&amp;…'],
    ['ab&lt;cd', 5, 'ab…'],
    ['x&#x1F600;y', 6, 'x…'],
  ])('never cuts inside an entity: truncate(%j, %i)', (input, max, expected) => {
    expect(truncate(input, max)).toBe(expected);
  });

  it('may cut next to an ampersand that starts no entity', () => {
    expect(truncate('a&b c d e', 4)).toBe('a&b…');
  });

  it('fits max, orphans no surrogate and keeps a prefix, for any input', () => {
    const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
    const unit = fc.oneof(fc.string({ unit: 'binary', maxLength: 1 }), loneSurrogate);
    fc.assert(
      fc.property(fc.string({ unit }), fc.nat(40), (s, max) => {
        const out = truncate(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        if (!LONE_SURROGATE.test(s)) expect(out).not.toMatch(LONE_SURROGATE);
        if (out !== s) expect(s.startsWith(out.slice(0, -1))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('safeText', () => {
  it('escapes before measuring, so entities count towards max', () => {
    expect(safeText('<@U1>', 100)).toBe('&lt;@U1&gt;');
    expect(safeText('<<<<', 10)).toBe('&lt;&lt;…');
  });

  it('never leaves a dangling entity, a lone surrogate or a mention, for any input and max', () => {
    fc.assert(
      fc.property(hostile, fc.nat(80), (s, max) => {
        const out = safeText(s, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(out).not.toMatch(WHOLE_ENTITIES);
        expect(out).not.toMatch(/[<>]/);
        expect(out).not.toMatch(MENTION);
        // Only lone surrogates the input itself carried may remain.
        if (!LONE_SURROGATE.test(s)) expect(out).not.toMatch(LONE_SURROGATE);
      }),
      { numRuns: 500 },
    );
  });
});

describe('safeCode', () => {
  it('wraps an id in a code span that its backticks and line breaks cannot end', () => {
    expect(safeCode('my_agent `x`\n*y*', 100)).toBe('`my_agent ˋxˋ *y*`');
  });

  it('fits max with the backticks, and never leaves an empty span', () => {
    expect(safeCode('abcdefghij', 6)).toBe('`abc…`');
    expect(safeCode('', 10)).toBe('` `');
  });

  it('keeps mentions, links and bidi overrides out, as everywhere else', () => {
    expect(safeCode('<!channel> <@U0EVIL0001> <https://evil.example|bank>\u202E', 200)).toBe('`&lt;!channel&gt; &lt;@U0EVIL0001&gt; &lt;https://evil.example|bank&gt;`');
  });
});

describe('plainText', () => {
  it('strips control characters but does not escape', () => {
    expect(plainText('a\u0000 <b> & c', 100)).toBe('a <b> & c');
  });

  it('truncates to max with an ellipsis, treating entities as plain characters', () => {
    expect(plainText('Approve refund &amp; close ticket', 17)).toBe('Approve refund &…');
    expect(plainText('x'.repeat(200), HEADER_TEXT_MAX)).toHaveLength(HEADER_TEXT_MAX);
  });
});

describe('chunkText', () => {
  it('returns short text as a single chunk and empty text as none', () => {
    expect(chunkText('hello', 100)).toEqual(['hello']);
    expect(chunkText('', 100)).toEqual([]);
  });

  it('prefers to break after a newline', () => {
    expect(chunkText('first line\nsecond line\nthird', 24)).toEqual(['first line\nsecond line\n', 'third']);
  });

  it('falls back to a space when a line is longer than max', () => {
    expect(chunkText('aaaa bbbb cccc dddd', 12)).toEqual(['aaaa bbbb ', 'cccc dddd']);
  });

  it('hard-splits text with no breaks, but not inside an entity or surrogate pair', () => {
    expect(chunkText('abcdefgh&amp;ijkl', 10)).toEqual(['abcdefgh', '&amp;ijkl']);
    expect(chunkText('abcdefghi😀jk', 10)).toEqual(['abcdefghi', '😀jk']);
  });

  it('refuses a max too small to hold every entity', () => {
    expect(() => chunkText('x', CHUNK_MIN - 1)).toThrow(RangeError);
  });

  it('produces non-empty chunks within max that join back into the input', () => {
    const text = fc.string({ unit: fc.oneof(fc.constantFrom('\n', ' ', '😀'), hostileUnit), maxLength: 300 });
    fc.assert(
      fc.property(text, fc.integer({ min: CHUNK_MIN, max: 60 }), (raw, max) => {
        const s = escapeMrkdwn(raw);
        const chunks = chunkText(s, max);
        expect(chunks.join('')).toBe(s);
        for (const chunk of chunks) {
          expect(chunk.length).toBeGreaterThan(0);
          expect(chunk.length).toBeLessThanOrEqual(max);
          expect(chunk).not.toMatch(WHOLE_ENTITIES);
          if (!LONE_SURROGATE.test(s)) expect(chunk).not.toMatch(LONE_SURROGATE);
        }
      }),
      { numRuns: 300 },
    );
  });
});
