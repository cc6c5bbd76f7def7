import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { createRedactor } from '../../src/domain/redact.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, destination };
}

describe('the process logger', () => {
  it('masks PII in logged objects, errors and message strings', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', base: {}, redactor: () => createRedactor(), destination });
    log.warn({ request: { to: 'jane.doe@example.com', card: '4111 1111 1111 1111', orderId: '#4521' }, err: new Error('no user 078-05-1120') }, 'call +14155550123 back');
    const out = lines.join('');
    expect(out).not.toMatch(/jane\.doe|4111 1111|078-05-1120|4155550123/);
    const line = JSON.parse(out) as { request: Record<string, string>; err: { message: string }; msg: string };
    expect(line.request).toEqual({ to: 'j***@example.com', card: '[card ••••1111]', orderId: '#4521' });
    expect(line.err.message).toBe('no user [ssn]');
    expect(line.msg).toBe('call [phone ••23] back');
  });

  it('uses the redactor current at each line, so a reloaded config applies at once', () => {
    const { lines, destination } = capture();
    let redactor = createRedactor();
    const log = createLogger({ level: 'info', base: {}, redactor: () => redactor, destination });
    log.info({ note: 'EMP-123456' });
    redactor = createRedactor({ patterns: [{ name: 'employee', regex: 'EMP-\\d{6}' }] });
    log.info({ note: 'EMP-123456' });
    expect(lines.map((l) => (JSON.parse(l) as { note: string }).note)).toEqual(['EMP-123456', '[employee]']);
  });
});
