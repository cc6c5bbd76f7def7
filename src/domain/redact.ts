/**
 * PII redaction, applied to anything Countersign logs or shows on a card.
 *
 * Masks keep just enough to tell two values apart (last digits of a card or
 * phone, an email's first letter and domain). Redacting twice equals redacting
 * once: masks never match again, and `text` repeats until nothing changes.
 * Detection leans towards leaving order numbers, dates, amounts, UUIDs and
 * timestamps readable: approvers need those to decide.
 */

export interface RedactionPattern {
  /** Shown in the mask, as `[name]`; also named in the error if `regex` does not compile. */
  name: string;
  /** JavaScript regex source, compiled once with the `g` flag. Matches lying wholly inside a mask are ignored. */
  regex: string;
}

export interface RedactorOptions {
  /** Extra patterns, applied after the built-in ones, in order. */
  patterns?: RedactionPattern[];
  /** Replaces the defaults; spread DEFAULT_REDACTED_FIELDS to extend them instead. */
  fieldNames?: string[];
}

export interface Redactor {
  text(s: string): string;
  /**
   * A redacted deep copy of a JSON-like value. Strings are passed through
   * `text`; integers too (card numbers arrive as JSON numbers), becoming a
   * string only when masked. Other objects are copied as plain objects of
   * their own enumerable keys, so nothing unredacted escapes by reference.
   */
  value<T>(v: T): T;
}

/** Object keys whose whole value is hidden, compared case-insensitively. */
export const DEFAULT_REDACTED_FIELDS: readonly string[] = [
  'password', 'secret', 'token', 'apiKey', 'api_key', 'authorization',
  'ssn', 'card_number', 'cardNumber', 'cvv',
];

/** Containers nested deeper than this below the root are replaced, bounding work on hostile input. */
export const MAX_DEPTH = 32;

/**
 * Each pass that changes anything masks at least one more `@` or run of raw
 * digits, so passes converge long before this; the cap is for extra patterns,
 * which we cannot reason about.
 */
const MAX_PASSES = 8;

/*
 * The fewest ASCII digits (a JS `\d` is only 0-9) each built-in mask needs: a
 * phone is masked only with 8 or more, an SSN has 9, a card 13. Counting them
 * is one cheap scan; the patterns' scans are what redaction costs.
 */
const PHONE_DIGITS = 8;
const SSN_DIGITS = 9;
const CARD_DIGITS = 13;

export const REDACTED = '[redacted]';
export const CIRCULAR = '[circular]';
export const TOO_DEEP = '[too deep]';

export function createRedactor(opts: RedactorOptions = {}): Redactor {
  const extra = (opts.patterns ?? []).map(compilePattern);
  const masks = new RegExp(
    String.raw`\[(?:card ••••\d{4}|ssn|phone ••\d{2}${extra.map(({ name }) => `|${escapeRegExp(name)}`).join('')})\]`,
    'g',
  );
  const fields = new Set((opts.fieldNames ?? DEFAULT_REDACTED_FIELDS).map((f) => f.toLowerCase()));

  // Emails go first so their digits are not read as phones or cards; cards
  // before SSNs and phones so a card's groups are not taken for either.
  const pass = (s: string): string => {
    // An email needs its `@`, an SSN its dashes: skipping the scan without them changes nothing.
    let out = s.includes('@') ? s.replace(EMAIL, (_m, first: string, domain: string) => `${first}***@${domain}`) : s;
    // Masking an email removes no digit, so one count serves every scan below.
    const digits = countDigits(out, CARD_DIGITS);
    if (digits >= CARD_DIGITS) out = maskCards(out);
    if (digits >= SSN_DIGITS && out.includes('-')) {
      out = out.replace(SSN, (m, area: string, group: string, serial: string) => (isValidSsn(area, group, serial) ? '[ssn]' : m));
    }
    // Every phone form has a `+` or a `.`/`-` delimiter (see PHONE). A card's or an SSN's mask keeps fewer digits than a phone needs.
    if (digits >= PHONE_DIGITS && PHONE_MARK.test(out)) {
      out = out.replace(PHONE, (m) => {
        const digits = m.replace(/\D/g, '');
        return digits.length >= 8 && digits.length <= 15 ? `[phone ••${digits.slice(-2)}]` : m;
      });
    }
    for (const { name, re } of extra) out = maskOutsideMasks(out, re, `[${name}]`, masks);
    return out;
  };

  // A token is only recognised with a clean edge, so one glued to its
  // neighbour (`…0123-a@b.com`) surfaces once that neighbour is masked.
  // Passes repeat until nothing changes, which is what makes `text` idempotent.
  const text = (s: string): string => {
    // Without an `@` or enough digits for a phone, no built-in pattern can match: most strings pass through untouched.
    if (extra.length === 0 && !s.includes('@') && countDigits(s, PHONE_DIGITS) < PHONE_DIGITS) return s;
    let out = s;
    for (let i = 0; i < MAX_PASSES; i++) {
      const next = pass(out);
      if (next === out) break;
      out = next;
    }
    return out;
  };

  const walk = (v: unknown, depth: number, ancestors: Set<object>): unknown => {
    if (typeof v === 'string') return text(v);
    if ((typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint') {
      const digits = String(v);
      const masked = text(digits);
      return masked === digits ? v : masked;
    }
    if (typeof v !== 'object' || v === null) return v;
    if (ancestors.has(v)) return CIRCULAR;
    if (depth > MAX_DEPTH) return TOO_DEEP;
    if (v instanceof Date) return new Date(v.getTime());

    // Only ancestors count as cycles: the same object reached twice by different paths is copied twice.
    ancestors.add(v);
    try {
      if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1, ancestors));
      const out: Record<string, unknown> = {};
      const entries: Array<[string, unknown]> = Object.entries(v);
      // Error's name, message and stack are not enumerable, but they are what a log shows.
      if (v instanceof Error) {
        entries.unshift(['name', v.name], ['message', v.message], ['stack', v.stack]);
        if (v.cause !== undefined) entries.push(['cause', v.cause]);
      }
      for (const [key, item] of entries) {
        const redacted = fields.has(key.toLowerCase()) ? REDACTED : walk(item, depth + 1, ancestors);
        // defineProperty, because assigning a `__proto__` key would change the copy's prototype; it costs more than assigning.
        if (key === '__proto__') Object.defineProperty(out, key, { value: redacted, enumerable: true, writable: true, configurable: true });
        else out[key] = redacted;
      }
      return out;
    } finally {
      ancestors.delete(v);
    }
  };

  return {
    text,
    value: <T>(v: T): T => walk(v, 0, new Set()) as T,
  };
}

/** The ASCII digits in `s`, counted up to `enough`. */
function countDigits(s: string, enough: number): number {
  let n = 0;
  for (let i = 0; i < s.length && n < enough; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** Luhn checksum over a string of ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * Replaces each non-empty match of `re` with `mask`, except matches lying wholly
 * inside an existing mask: a pattern such as `x*` would otherwise find the `x`
 * in its own `[x]` and grow it on every pass. Empty matches are skipped too, or
 * the mask would land between every character.
 */
function maskOutsideMasks(s: string, re: RegExp, mask: string, masks: RegExp): string {
  const existing = [...s.matchAll(masks)].map((m) => [m.index, m.index + m[0].length] as const);
  let out = '';
  let last = 0;
  for (const m of s.matchAll(re)) {
    const start = m.index;
    const end = start + m[0].length;
    if (start === end || existing.some(([a, b]) => a <= start && end <= b)) continue;
    out += s.slice(last, start) + mask;
    last = end;
  }
  return out + s.slice(last);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compilePattern({ name, regex }: RedactionPattern): { name: string; re: RegExp } {
  try {
    return { name, re: new RegExp(regex, 'g') };
  } catch (err) {
    throw new Error(`Invalid redaction pattern "${name}": ${(err as Error).message}`);
  }
}

// The local part must start right after a non-address character, else a
// second pass would find a fresh address inside `x***@a.com@b.com`.
const EMAIL = /(?<![A-Za-z0-9._%+@-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})(?![A-Za-z0-9-])/g;

// Area 000, 666 and 900–999, group 00 and serial 0000 are never issued.
const SSN = /(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w-])/g;

function isValidSsn(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && !area.startsWith('9') && group !== '00' && serial !== '0000';
}

/*
 * E.164 (+ and 8–15 digits, unspaced or in space-separated groups as printed
 * internationally, e.g. `+44 20 7183 8750`) or a NANP number: optional +1/1 prefix, area code
 * in parentheses or followed by - or ., exchange, line. Area and exchange start
 * with 2–9, as real ones do, which spares e.g. `123-456-7890`. Forms that begin
 * with `+` or `(` carry their own delimiter, so they need no lookbehind.
 */
const AREA = String.raw`(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[.-])`;
const LOCAL = String.raw`[2-9]\d{2}[.-]\d{4}`;
/** After an explicit +1 the number is unambiguous, so spaces may separate its parts too. */
const AREA_PLUS = String.raw`(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])`;
const LOCAL_PLUS = String.raw`[2-9]\d{2}[ .-]\d{4}`;
const PHONE = new RegExp(
  '(?:' +
    [
      String.raw`\+[1-9]\d{7,14}`,
      String.raw`\+1[ .-]?${AREA_PLUS}${LOCAL_PLUS}`,
      String.raw`\+[2-9]\d{0,2}(?: \d{1,4}){2,5}`,
      String.raw`\([2-9]\d{2}\) ?${LOCAL}`,
      String.raw`(?<![\w+.-])(?:1[ .-]?)?${AREA}${LOCAL}`,
    ].join('|') +
    String.raw`)(?!\w|[.-]\d)`,
  'g',
);

/** A character every PHONE alternative needs: `+` (E.164, +1) or the `.`/`-` of a NANP local number. */
const PHONE_MARK = /[+.-]/;

/** Digits with single spaces or dashes between them: the raw material for card numbers. */
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;
const WORD_CHAR = /\w/;

/**
 * Masks card numbers inside each digit run. A run can hold several numbers
 * (`4111… 4242…`) or a card next to other digits, so from each group we try
 * the longest card-shaped span first. The run's own edges must not touch a
 * word character, nor `+` (that is a phone number).
 */
function maskCards(s: string): string {
  return s.replace(DIGIT_RUN, (run: string, offset: number) => {
    // Fewer characters than a card has digits: most runs (a UUID holds a dozen) end here.
    if (run.length < CARD_DIGITS) return run;
    const openStart = !/[\w+]/.test(s[offset - 1] ?? ' ');
    const openEnd = !WORD_CHAR.test(s[offset + run.length] ?? ' ');
    const groups = run.split(/[ -]/);
    const seps = run.match(/[ -]/g) ?? [];
    let out = '';
    for (let i = 0; i < groups.length; ) {
      const end = i === 0 && !openStart ? -1 : longestCard(groups, seps, i, openEnd);
      out += i > 0 ? (seps[i - 1] ?? '') : '';
      if (end >= 0) {
        out += `[card ••••${groups.slice(i, end + 1).join('').slice(-4)}]`;
        i = end + 1;
      } else {
        out += groups[i] ?? '';
        i += 1;
      }
    }
    return out;
  });
}

/** Index of the last group of the longest card starting at group `i`, or -1. */
function longestCard(groups: string[], seps: string[], i: number, openEnd: boolean): number {
  let best = -1;
  let digits = '';
  for (let j = i; j < groups.length; j++) {
    digits += groups[j];
    if (digits.length > 19) break;
    if (j === groups.length - 1 && !openEnd) break;
    if (digits.length >= 13 && isCardShaped(groups.slice(i, j + 1), seps.slice(i, j)) && isCardNumber(digits)) {
      best = j;
    }
    // Every grouped format starts with 4 digits; without this, long runs of short groups cost quadratic time.
    if (j === i && groups[i]?.length !== 4) break;
  }
  return best;
}

/**
 * Unseparated, or grouped as cards are printed: one separator throughout, and
 * 4-4-4-4 style (the last group may be 1–4 digits) or Amex/Diners 4-6-5 / 4-6-4.
 * Arbitrary groupings are refused so that e.g. a timestamp followed by a short
 * number is not read as a card.
 */
function isCardShaped(groups: string[], seps: string[]): boolean {
  if (groups.length === 1) return true;
  if (new Set(seps).size !== 1) return false;
  const lens = groups.map((g) => g.length).join('-');
  return lens === '4-6-5' || lens === '4-6-4' || /^(?:4-)+[1-4]$/.test(lens);
}

/**
 * 13–19 digits, Luhn-valid, and a first digit of 2–6 (the card networks'
 * industry identifiers). That last test spares millisecond timestamps and
 * other 13+ digit IDs starting with 1, which are Luhn-valid one time in ten.
 */
function isCardNumber(digits: string): boolean {
  const first = digits.charCodeAt(0) - 48;
  return digits.length >= 13 && digits.length <= 19 && first >= 2 && first <= 6 && luhnValid(digits);
}
