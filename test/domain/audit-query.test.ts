import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  csvField,
  decodeCursor,
  encodeCursor,
  formatAuditFilter,
  parseAuditQuery,
  parseAuditQueryText,
} from '../../src/domain/audit-query.js';

const ok = (text: string) => {
  const p = parseAuditQueryText(text);
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  return p.value;
};
const errs = (text: string) => {
  const p = parseAuditQueryText(text);
  return p.ok ? [] : p.errors;
};

describe('audit query text', () => {
  it('reads every filter of the slash and CLI form', () => {
    const q = ok('agent:support-agent action:payments.refund outcome:denied from:2026-11-01 to:2026-11-25 decider:U123ABC exec:abc');
    expect(q.filter).toEqual({
      agent: 'support-agent',
      action: 'payments.refund',
      outcome: 'denied',
      from: new Date('2026-11-01T00:00:00Z'),
      // A date-only `to` includes that whole UTC day.
      to: new Date('2026-11-26T00:00:00Z'),
      decider: 'U123ABC',
      exec: 'abc',
    });
    expect(q.limit).toBe(20);
  });

  it('takes exact instants with an offset, Slack mentions as deciders, quoted values and aliases', () => {
    const q = ok('from:2026-11-25T09:30:00+02:00 to:2026-11-25T10:00:00.5Z decider:<@U0APPR1|ann> execution:"run 7" limit:200');
    expect(q.filter.from).toEqual(new Date('2026-11-25T07:30:00Z'));
    expect(q.filter.to).toEqual(new Date('2026-11-25T10:00:00.500Z'));
    expect(q.filter.decider).toBe('U0APPR1');
    expect(q.filter.exec).toBe('run 7');
    expect(q.limit).toBe(200);
    expect(ok('decider:@U0APPR1').filter.decider).toBe('U0APPR1');
  });

  it('names each bad field', () => {
    expect(errs('outcome:won')).toEqual([{ field: 'outcome', message: expect.stringContaining('must be one of success, failure, approved, denied, expired') }]);
    expect(errs('from:yesterday')[0]).toMatchObject({ field: 'from', message: expect.stringContaining('ISO 8601') });
    expect(errs('from:2026-11-25T09:30:00')[0]?.field).toBe('from'); // no offset
    expect(errs('to:2026-02-30')[0]?.field).toBe('to');
    expect(errs('from:2026-11-25 to:2026-11-01')).toEqual([{ field: 'to', message: 'must be after from' }]);
    expect(errs('decider:alice')[0]?.field).toBe('decider');
    expect(errs('colour:red')[0]).toMatchObject({ field: 'colour', message: expect.stringContaining('unknown filter') });
    expect(errs('refund')[0]).toMatchObject({ field: 'refund', message: expect.stringContaining('key:value') });
    expect(errs('agent:a agent:b')).toEqual([{ field: 'agent', message: 'given twice' }]);
    expect(errs('limit:0')[0]?.field).toBe('limit');
    expect(errs('limit:201')[0]?.field).toBe('limit');
    expect(errs('cursor:nonsense!')[0]?.field).toBe('cursor');
    expect(errs('outcome:won decider:x').map((e) => e.field)).toEqual(['outcome', 'decider']);
  });

  it('an empty query selects everything', () => {
    expect(ok('  ').filter).toEqual({});
  });

  it('formats a filter back into text that parses to the same filter', () => {
    const q = ok('agent:"a b" action:x outcome:failure from:2026-11-01 to:2026-11-02 decider:U1AB exec:e-1');
    expect(ok(formatAuditFilter(q.filter)).filter).toEqual(q.filter);
  });
});

describe('audit HTTP parameters', () => {
  it('accept the same names, with paging apart', () => {
    const p = parseAuditQuery({ agent: 'support-agent', outcome: 'success' }, { limit: '5' });
    expect(p).toEqual({ ok: true, value: { filter: { agent: 'support-agent', outcome: 'success' }, limit: 5 } });
  });
});

describe('audit cursors', () => {
  it('round-trip and refuse anything else', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }), fc.uuid(), (d, us, id) => {
        const at = d.toISOString().replace('Z', `${String(us).padStart(3, '0')}Z`);
        expect(decodeCursor(encodeCursor({ at, id }))).toEqual({ at, id });
      }),
    );
    expect(decodeCursor(Buffer.from('2026-11-25T09:30:00.123456Z|not-a-uuid').toString('base64url'))).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });
});

describe('CSV fields (RFC 4180)', () => {
  it('quote commas, quotes and line breaks, and leave the rest bare', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(0.41)).toBe('0.41');
  });
});
