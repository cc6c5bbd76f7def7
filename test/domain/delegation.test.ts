import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { delegatorsOf, endOfDay, isActive, pageeFor, parseDelegateCommand, type Delegation } from '../../src/domain/delegation.js';

const ME = 'U0DELEGATR';
const YOU = 'U0DELEGATE';
const NOW = new Date('2026-12-01T12:00:00Z');
const limits = { now: NOW, timezone: 'Europe/Berlin', maxDays: 90 };
const parse = (text: string, caller = ME, l = limits) => parseDelegateCommand(text.split(/\s+/).filter(Boolean), caller, l);

const delegation = (over: Partial<Delegation> = {}): Delegation => ({
  id: 'd1',
  delegator: ME,
  delegate: YOU,
  startsAt: new Date('2026-12-01T00:00:00Z'),
  endsAt: new Date('2026-12-24T23:00:00Z'),
  revokedAt: null,
  ...over,
});

describe('parseDelegateCommand', () => {
  it('reads `@x until 2026-12-24` as through that whole day in the policy’s time zone, from now', () => {
    expect(parse(`<@${YOU}|you> until 2026-12-24`)).toEqual({
      kind: 'set',
      delegate: YOU,
      startsAt: NOW,
      // Midnight after the 24th in Berlin (UTC+1 in winter).
      endsAt: new Date('2026-12-24T23:00:00Z'),
      until: '2026-12-24',
    });
  });

  it('takes the mention in each form Slack or a person sends it', () => {
    for (const who of [`<@${YOU}>`, `<@${YOU}|you>`, `@${YOU}`, YOU]) expect(parse(`${who} until 2026-12-24`)).toMatchObject({ kind: 'set', delegate: YOU });
  });

  it('lists with no words or `list`, and ends with `off`', () => {
    expect(parse('')).toEqual({ kind: 'list' });
    expect(parse('list')).toEqual({ kind: 'list' });
    expect(parse('off')).toEqual({ kind: 'off' });
    expect(parse('OFF')).toEqual({ kind: 'off' });
  });

  it.each([
    ['@someone until 2026-12-24', 'user', 'Mention the person'],
    [`<@${ME}> until 2026-12-24`, 'user', 'You cannot delegate to yourself'],
    [`<@${YOU}>`, 'until', 'Say until when'],
    [`<@${YOU}> 2026-12-24`, 'until', 'Say until when'],
    [`<@${YOU}> until christmas`, 'until', '`christmas` is not a date'],
    [`<@${YOU}> until 2026-02-30`, 'until', 'is not a date'],
    [`<@${YOU}> until 2026-11-30`, 'until', 'is in the past (dates are read in Europe/Berlin)'],
    [`<@${YOU}> until 2027-03-02`, 'until', 'at most 90 days'],
    [`<@${YOU}> until 2026-12-24 please`, 'until', 'one word too many'],
  ])('refuses `%s`, naming the field %s', (text, field, message) => {
    const r = parse(text);
    expect(r).toMatchObject({ kind: 'error', field });
    expect(r.kind === 'error' && r.message).toContain(message);
  });

  it('accepts today (it ends tonight) and exactly the furthest day allowed', () => {
    expect(parse(`<@${YOU}> until 2026-12-01`)).toMatchObject({ kind: 'set', endsAt: new Date('2026-12-01T23:00:00Z') });
    // 90 days from noon on 1 December UTC is noon on 1 March; the 28 February ends before it.
    expect(parse(`<@${YOU}> until 2027-02-28`)).toMatchObject({ kind: 'set' });
    expect(parse(`<@${YOU}> until 2027-03-01`)).toMatchObject({ kind: 'error', field: 'until' });
  });

  it('never produces a delegation that is already over, too long, or to oneself', () => {
    fc.assert(
      fc.property(fc.integer({ min: -400, max: 400 }), fc.constantFrom('UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Pacific/Kiritimati'), (days, timezone) => {
        const date = new Date(NOW.getTime() + days * 86_400_000).toISOString().slice(0, 10);
        const r = parse(`<@${YOU}> until ${date}`, ME, { ...limits, timezone });
        if (r.kind !== 'set') return r.kind === 'error';
        return r.endsAt > NOW && r.endsAt.getTime() - NOW.getTime() <= 90 * 86_400_000 && r.delegate !== ME;
      }),
    );
  });
});

describe('endOfDay', () => {
  it('is the next midnight in the zone, across a daylight saving change', () => {
    expect(endOfDay('2026-03-28', 'Europe/Berlin')).toEqual(new Date('2026-03-28T23:00:00Z'));
    // The 29th has 23 hours in Berlin: its end is 22:00 UTC.
    expect(endOfDay('2026-03-29', 'Europe/Berlin')).toEqual(new Date('2026-03-29T22:00:00Z'));
    expect(endOfDay('2026-12-24', 'UTC')).toEqual(new Date('2026-12-25T00:00:00Z'));
    expect(endOfDay('24.12.2026', 'UTC')).toBeUndefined();
  });
});

describe('a delegation in force', () => {
  it('counts from its start until (not including) its end, unless revoked', () => {
    const d = delegation();
    expect(isActive(d, new Date('2026-11-30T23:59:59Z'))).toBe(false);
    expect(isActive(d, d.startsAt)).toBe(true);
    expect(isActive(d, new Date(d.endsAt.getTime() - 1))).toBe(true);
    expect(isActive(d, d.endsAt)).toBe(false);
    expect(isActive({ ...d, revokedAt: NOW }, NOW)).toBe(false);
  });

  it('makes the delegate stand in for the delegator, and lapses at the end date', () => {
    const d = delegation();
    expect(delegatorsOf([d], YOU, NOW)).toEqual([ME]);
    expect(delegatorsOf([d], ME, NOW)).toEqual([]);
    expect(delegatorsOf([d], YOU, d.endsAt)).toEqual([]);
  });

  it('sends the delegator’s pages to the delegate while it is in force, the latest one winning', () => {
    const later = delegation({ id: 'd2', delegate: 'U0SECONDDL', startsAt: new Date('2026-12-01T06:00:00Z') });
    expect(pageeFor([delegation()], ME, NOW)).toEqual({ user: YOU, onBehalfOf: ME });
    expect(pageeFor([delegation(), later], ME, NOW)).toEqual({ user: 'U0SECONDDL', onBehalfOf: ME });
    expect(pageeFor([delegation()], ME, new Date('2026-12-25T00:00:00Z'))).toEqual({ user: ME });
    expect(pageeFor([delegation()], 'U0SOMEONE1', NOW)).toEqual({ user: 'U0SOMEONE1' });
  });
});
