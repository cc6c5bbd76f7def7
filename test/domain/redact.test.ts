import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CIRCULAR, DEFAULT_REDACTED_FIELDS, MAX_DEPTH, REDACTED, TOO_DEEP, createRedactor, luhnValid,
} from '../../src/domain/redact.js';

const redactor = createRedactor();

describe('redactor.text on a corpus', () => {
  it.each([
    ['a spaced Visa number', 'card 4111 1111 1111 1111 exp 12/27', 'card [card ••••1111] exp 12/27'],
    ['a dashed Visa number', 'pay with 4111-1111-1111-1111.', 'pay with [card ••••1111].'],
    ['an unseparated Mastercard number', '5555555555554444', '[card ••••4444]'],
    ['an Amex number in 4-6-5 groups', 'Amex 3782 822463 10005', 'Amex [card ••••0005]'],
    ['an unseparated Amex number', 'amex:378282246310005', 'amex:[card ••••0005]'],
    ['a Discover number in JSON', '{"pan":"6011111111111117"}', '{"pan":"[card ••••1117]"}'],
    ['a 13-digit Visa number', 'old card 4222222222222', 'old card [card ••••2222]'],
    ['a 19-digit card number', 'pan 4556737580000000008', 'pan [card ••••0008]'],
    ['two cards separated by a space', '4111111111111111 4242424242424242', '[card ••••1111] [card ••••4242]'],
    ['a card right after a quantity', 'qty 2 4242 4242 4242 4242', 'qty 2 [card ••••4242]'],
    ['an SSN', 'SSN 123-45-6789, thanks', 'SSN [ssn], thanks'],
    ['a famously leaked SSN', '(078-05-1120)', '([ssn])'],
    ['an email, keeping the domain', 'mail john.doe@example.com now', 'mail j***@example.com now'],
    ['a tagged email on a multi-part domain', 'to: a+tag@sub.example.co.uk.', 'to: a***@sub.example.co.uk.'],
    ['an E.164 US phone', 'sms +14155550123', 'sms [phone ••23]'],
    ['an E.164 UK phone', 'call +442071838750 today', 'call [phone ••50] today'],
    ['a US phone with parentheses', 'call (415) 555-0123', 'call [phone ••23]'],
    ['a dashed US phone ending a sentence', 'call 415-555-0123.', 'call [phone ••23].'],
    ['a dotted US phone', '415.555.0123', '[phone ••23]'],
    ['a US phone with +1 prefix', '+1 (415) 555-0123', '[phone ••23]'],
    ['a US phone with 1- prefix', '1-415-555-0123', '[phone ••23]'],
    ['two phones written back to back', '415-555-0123(415) 555-0124', '[phone ••23][phone ••24]'],
    ['an email exposed only once the phone before it is masked', 'a@b.com+14155550123-a@b.com', 'a***@b.com[phone ••23]-***@b.com'],
    ['an email exposed only once the card before it is masked', '@378282246310005+1a@b.com', '@[card ••••0005]+***@b.com'],
  ])('masks %s', (_what, input, expected) => {
    expect(redactor.text(input)).toBe(expected);
  });

  it.each([
    ['an order number with a hash', 'Order #4521 shipped'],
    ['an order number in words', 'refund order 1234567 in full'],
    ['an ISO date', 'due 2024-01-15'],
    ['an ISO timestamp', '2024-01-15T10:20:30.123Z'],
    ['amounts', 'refund $340.00 of $1,234,567.89'],
    ['a UUID', '550e8400-e29b-41d4-a716-446655440000'],
    ['another UUID', 'req 123e4567-e89b-12d3-a456-426614174000'],
    ['a Unix timestamp', 'at 1531420618'],
    ['a Luhn-valid millisecond timestamp', 'at 1531420618004'],
    ['a Luhn-invalid 16-digit number', 'ref 4111111111111112'],
    ['Luhn-invalid grouped digits', '1234 5678 9012 3456'],
    ['an ISBN', 'ISBN 978-3-16-148410-0'],
    ['an SSN with area 000', '000-12-3456'],
    ['an SSN with area 666', '666-12-3456'],
    ['an SSN with area 9xx', '912-34-5678'],
    ['an SSN with group 00', '123-00-4567'],
    ['an SSN with serial 0000', '123-45-0000'],
    ['a seven-digit local number', 'ext 555-0123'],
    ['a number whose area code cannot exist', '123-456-7890'],
    ['a version and an IP address', 'v1.2.3 on 192.168.1.10'],
    ['a dated ticket id', 'ticket 20240115-0001'],
    ['Slack ids', '<@U0123ABCD> in <#C0456EFGH>'],
    ['a card number glued to a word', 'id4111111111111111'],
    ['a bare at-sign handle', 'ping @alice'],
    ['text already redacted', '[card ••••1111] [ssn] j***@example.com [phone ••23]'],
  ])('leaves %s unchanged', (_what, input) => {
    expect(redactor.text(input)).toBe(input);
  });
});

describe('luhnValid', () => {
  it('accepts test card numbers and rejects a one-digit change', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111121')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });
});

describe('extra patterns', () => {
  it('masks matches with the pattern name', () => {
    const r = createRedactor({ patterns: [{ name: 'employee', regex: 'EMP-\\d{6}' }] });
    expect(r.text('filed by EMP-123456 for 4111111111111111')).toBe('filed by [employee] for [card ••••1111]');
  });

  it('rejects an invalid regex at creation, naming the pattern', () => {
    expect(() => createRedactor({ patterns: [{ name: 'broken', regex: '(unclosed' }] })).toThrow(
      /Invalid redaction pattern "broken"/,
    );
  });

  it('ignores empty matches and never masks inside a mask, even its own', () => {
    const r = createRedactor({ patterns: [{ name: 'x', regex: 'x*' }] });
    expect(r.text('abc xx')).toBe('abc [x]');
    expect(r.text(r.text('abc xx'))).toBe('abc [x]');
  });

  it('may swallow built-in masks into a larger match', () => {
    const r = createRedactor({ patterns: [{ name: 'note', regex: 'note: .*' }] });
    expect(r.text('id 7\nnote: call 415-555-0123')).toBe('id 7\n[note]');
  });
});

describe('redactor.value', () => {
  it('hides the whole value of sensitive keys, in any case', () => {
    const input = { user: 'ann', Password: 'hunter2', nested: { APIKEY: { id: 1 }, list: [{ Authorization: 'Bearer x' }] } };
    expect(redactor.value(input)).toEqual({
      user: 'ann', Password: REDACTED, nested: { APIKEY: REDACTED, list: [{ Authorization: REDACTED }] },
    });
  });

  it('redacts strings and card-number integers anywhere in the tree, leaving other values alone', () => {
    const input = { note: 'mail a.b@example.com', pan: 4111111111111111, ts: 1531420618, ok: true, none: null };
    expect(redactor.value(input)).toEqual({
      note: 'mail a***@example.com', pan: '[card ••••1111]', ts: 1531420618, ok: true, none: null,
    });
  });

  it('uses configured field names instead of the defaults', () => {
    const onlyPin = createRedactor({ fieldNames: ['pin'] });
    expect(onlyPin.value({ PIN: '1234', password: 'p' })).toEqual({ PIN: REDACTED, password: 'p' });
    const extended = createRedactor({ fieldNames: [...DEFAULT_REDACTED_FIELDS, 'pin'] });
    expect(extended.value({ pin: '1234', cvv: '123' })).toEqual({ pin: REDACTED, cvv: REDACTED });
  });

  it('never mutates its input', () => {
    const input = { password: 'p', list: ['a@b.com', { token: 't' }], when: new Date(0) };
    const before = structuredClone(input);
    const out = redactor.value(input);
    expect(input).toEqual(before);
    expect(out.when).not.toBe(input.when);
    expect(out.when).toEqual(input.when);
  });

  it('replaces a cycle with [circular] but copies a shared object each time it appears', () => {
    const shared = { email: 'x' };
    const input: Record<string, unknown> = { a: shared, b: [shared] };
    input['self'] = input;
    expect(redactor.value(input)).toEqual({ a: { email: 'x' }, b: [{ email: 'x' }], self: CIRCULAR });
  });

  it(`stops descending after ${MAX_DEPTH} levels`, () => {
    let deep: unknown = { leaf: true };
    for (let i = 0; i < 40; i++) deep = { next: deep };
    let out = redactor.value(deep) as { next: unknown };
    for (let i = 0; i < MAX_DEPTH; i++) out = out.next as { next: unknown };
    expect(out.next).toBe(TOO_DEEP);
  });

  it('keeps a __proto__ key as data rather than as the prototype', () => {
    const out = redactor.value(JSON.parse('{"__proto__":{"password":"p"}}') as object);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ password: REDACTED });
  });

  it('redacts an Error’s message and stack, which are not enumerable', () => {
    const out: unknown = redactor.value({ err: new Error('no user a.b@example.com') });
    expect(out).toMatchObject({ err: { name: 'Error', message: 'no user a***@example.com' } });
    expect(JSON.stringify(out)).not.toContain('a.b@example.com');
  });
});

/** A Luhn-valid number as card networks issue them: 13–19 digits, first digit 2–6. */
const cardDigits = fc
  .tuple(fc.integer({ min: 2, max: 6 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 11, maxLength: 17 }))
  .map(([first, body]) => {
    const partial = `${first}${body.join('')}`;
    const check = [...'0123456789'].find((d) => luhnValid(partial + d));
    return partial + check;
  });
const formattedCard = fc
  .tuple(cardDigits, fc.constantFrom('', ' ', '-'))
  .map(([digits, sep]) => (sep === '' ? digits : (digits.match(/.{1,4}/g) ?? []).join(sep)));

/** Text full of near-misses: digits, separators, address and phone punctuation, earlier masks. */
const noisyUnit = fc.oneof(
  fc.constantFrom(
    ' ', '-', '.', '+', '(', ')', '@', '[', ']', '•', '\n', 'a', 'Z', '_', 'a@b.com', '.com', '123-45-6789',
    '4111 1111 1111 1111', '4242424242424242', '+14155550123', '(415) 555-0123', '415.555.0123', '[card ••••1111]',
  ),
  fc.integer({ min: 0, max: 9 }).map(String),
  fc.string({ unit: 'grapheme-ascii', maxLength: 2 }),
);
const noisy = fc.string({ unit: noisyUnit, maxLength: 40 });

describe('redaction properties', () => {
  it('is idempotent on noisy text', () => {
    fc.assert(
      fc.property(noisy, (s) => {
        const once = redactor.text(s);
        expect(redactor.text(once)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same text when it skips strings too short in digits to hold a mask as when it scans them', () => {
    // An extra pattern, even one that never matches, turns the whole-string shortcut off.
    const scanning = createRedactor({ patterns: [{ name: 'never', regex: '(?!)' }] });
    fc.assert(
      fc.property(noisy, (s) => {
        expect(redactor.text(s)).toBe(scanning.text(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent on JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const once = redactor.value(v);
        expect(redactor.value(once)).toEqual(once);
      }),
    );
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => void redactor.text(s)));
  });

  it('never throws on arbitrary values, including Maps, Sets, Dates and null-prototype objects', () => {
    const anything = fc.anything({ maxDepth: 4, withMap: true, withSet: true, withDate: true, withNullPrototype: true });
    fc.assert(fc.property(anything, (v) => void redactor.value(v)));
  });

  it('never lets a Luhn-valid card number through, whatever text surrounds it', () => {
    fc.assert(
      fc.property(noisy, formattedCard, noisy, (before, card, after) => {
        expect(redactor.text(`${before} ${card} ${after}`)).not.toContain(card);
      }),
      { numRuns: 2000 },
    );
  });
});
