import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { redactorOf, retentionCutoff } from '../../src/domain/audit-config.js';
import { REDACTED, createRedactor } from '../../src/domain/redact.js';

interface Corpus {
  masked: Array<{ what: string; input: string; expected: string }>;
  kept: Array<{ what: string; input: string }>;
}
const corpus = JSON.parse(readFileSync(new URL('../fixtures/redaction-corpus.json', import.meta.url), 'utf8')) as Corpus;
const redactor = createRedactor();

describe('the redaction corpus (test/fixtures/redaction-corpus.json)', () => {
  it.each(corpus.masked.map((c) => [c.what, c.input, c.expected]))('masks %s', (_what, input, expected) => {
    expect(redactor.text(input)).toBe(expected);
  });

  it.each(corpus.kept.map((c) => [c.what, c.input]))('keeps %s', (_what, input) => {
    expect(redactor.text(input)).toBe(input);
  });

  it('is large enough to mean something: at least 15 true and 25 false positives', () => {
    expect(corpus.masked.length).toBeGreaterThanOrEqual(15);
    expect(corpus.kept.length).toBeGreaterThanOrEqual(25);
  });
});

const baseConfig = `
routes:
  - name: default
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }
`;

describe('audit.redact in the config file', () => {
  const { config } = parseConfig(
    `${baseConfig}
audit:
  redact:
    patterns:
      - { name: employee, regex: "EMP-\\\\d{6}" }
      - { name: iban, regex: "\\\\bDE\\\\d{20}\\\\b" }
    fields: [dateOfBirth, pin]
`,
    'test',
  );

  it('adds its patterns to the built-in detectors', () => {
    const r = redactorOf(config.audit);
    expect(r.text('EMP-123456 paid DE89370400440532013000 from 4111 1111 1111 1111, order #4521')).toBe(
      '[employee] paid [iban] from [card ••••1111], order #4521',
    );
  });

  it('adds its field names to the built-in ones', () => {
    const r = redactorOf(config.audit);
    expect(r.value({ DateOfBirth: '1990-01-01', pin: 1234, password: 'x', orderId: 4521 })).toEqual({
      DateOfBirth: REDACTED, pin: REDACTED, password: REDACTED, orderId: 4521,
    });
  });

  it('builds one redactor per loaded config', () => {
    expect(redactorOf(config.audit)).toBe(redactorOf(config.audit));
  });

  it('falls back to the built-in redactor without an audit section', () => {
    const { config: plain } = parseConfig(baseConfig, 'test');
    expect(redactorOf(plain.audit).text('a.b@example.com')).toBe('a***@example.com');
  });

  it('refuses a pattern that does not compile, naming its place', () => {
    expect(() => parseConfig(`${baseConfig}\naudit: { redact: { patterns: [{ name: bad, regex: "(unclosed" }] } }\n`, 'test')).toThrow(
      /audit\.redact\.patterns\[0\]\.regex: does not compile/,
    );
  });
});

describe('audit.retention', () => {
  it('takes exactly one of days, months or years', () => {
    expect(parseConfig(`${baseConfig}\naudit: { retention: { years: 7 } }\n`, 'test').config.audit?.retention).toEqual({ years: 7 });
    expect(() => parseConfig(`${baseConfig}\naudit: { retention: { years: 7, months: 1 } }\n`, 'test')).toThrow(/exactly one of days, months or years/);
  });

  it('cuts off by calendar: 12 months before 2026-11-25 is 2025-11-25', () => {
    const now = new Date('2026-11-25T12:00:00Z');
    expect(retentionCutoff({ months: 12 }, now).toISOString()).toBe('2025-11-25T12:00:00.000Z');
    expect(retentionCutoff({ years: 7 }, now).toISOString()).toBe('2019-11-25T12:00:00.000Z');
    expect(retentionCutoff({ days: 30 }, now).toISOString()).toBe('2026-10-26T12:00:00.000Z');
  });
});
