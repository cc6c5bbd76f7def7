import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signCallback, verifyCallback } from '../../src/domain/callback-signature.js';

const SECRET = 'cb-secret-0123456789';
const NOW = 1_893_456_000;
const BODY = JSON.stringify({ version: 1, escalationId: '7d1f7a7e-4c1b-4f7e-9a55-2f4be0c6a111', status: 'approved', proceed: true });

/** The scheme as an agent would implement it from docs/agent-contract.md, with node:crypto only. */
function expectedSignature(secret: string, ts: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`v1:${ts}:${body}`, 'utf8').digest('hex')}`;
}

const verify = (over: Partial<Parameters<typeof verifyCallback>[0]> = {}) =>
  verifyCallback({ secret: SECRET, timestamp: String(NOW), signature: signCallback(SECRET, NOW, BODY), body: BODY, nowSec: NOW, ...over });

describe('signCallback', () => {
  it('formats the header as v1= and 64 lower-case hex digits', () => {
    expect(signCallback(SECRET, NOW, BODY)).toMatch(/^v1=[0-9a-f]{64}$/);
  });

  it('is HMAC-SHA256 of "v1:{timestamp}:{body}" under the callback secret', () => {
    expect(signCallback(SECRET, NOW, BODY)).toBe(expectedSignature(SECRET, NOW, BODY));
  });

  it('matches a fixed vector, so the scheme cannot drift unnoticed', () => {
    const ts = 1531420618;
    const body = '{"status":"approved"}';
    const hex = createHmac('sha256', 's3cr3t').update('v1:1531420618:{"status":"approved"}').digest('hex');
    expect(signCallback('s3cr3t', ts, body)).toBe(`v1=${hex}`);
  });

  it('signs the body’s UTF-8 bytes, emoji and all', () => {
    const body = '{"reason":"refus\u00e9 🙅"}';
    expect(signCallback(SECRET, NOW, body)).toBe(
      `v1=${createHmac('sha256', SECRET).update(Buffer.from(`v1:${NOW}:${body}`, 'utf8')).digest('hex')}`,
    );
  });

  it('agrees with an independent HMAC for any secret, timestamp and body', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.string({ unit: 'binary' }), (secret, ts, body) => {
        expect(signCallback(secret, ts, body)).toBe(expectedSignature(secret, ts, body));
      }),
      { numRuns: 300 },
    );
  });
});

describe('verifyCallback', () => {
  it('accepts what signCallback produced (round trip)', () => {
    expect(verify()).toBe(true);
  });

  it('accepts a signature computed independently with node:crypto', () => {
    expect(verify({ signature: expectedSignature(SECRET, NOW, BODY) })).toBe(true);
  });

  it('rejects the body with one byte changed', () => {
    const tampered = BODY.replace('"approved"', '"approvee"');
    expect(tampered).not.toBe(BODY);
    expect(verify({ body: tampered })).toBe(false);
  });

  it('rejects any one-character change anywhere in the body', () => {
    fc.assert(
      fc.property(fc.nat({ max: BODY.length - 1 }), fc.integer({ min: 1, max: 94 }), (i, shift) => {
        const c = String.fromCharCode(((BODY.charCodeAt(i) - 32 + shift) % 95) + 32);
        const tampered = BODY.slice(0, i) + c + BODY.slice(i + 1);
        expect(verify({ body: tampered })).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a wrong secret', () => {
    expect(verify({ secret: `${SECRET}x` })).toBe(false);
    expect(verify({ signature: signCallback('another-secret', NOW, BODY) })).toBe(false);
  });

  it('rejects a timestamp more than 300 s old, even with a valid signature for it', () => {
    const old = NOW - 301;
    expect(verify({ timestamp: String(old), signature: signCallback(SECRET, old, BODY) })).toBe(false);
  });

  it('accepts a timestamp exactly 300 s old (the edge of the window)', () => {
    const edge = NOW - 300;
    expect(verify({ timestamp: String(edge), signature: signCallback(SECRET, edge, BODY) })).toBe(true);
  });

  it('rejects a timestamp more than 300 s in the future', () => {
    const ahead = NOW + 301;
    expect(verify({ timestamp: String(ahead), signature: signCallback(SECRET, ahead, BODY) })).toBe(false);
  });

  it('honours a custom tolerance', () => {
    const old = NOW - 60;
    expect(verify({ timestamp: String(old), signature: signCallback(SECRET, old, BODY), toleranceSec: 30 })).toBe(false);
    expect(verify({ timestamp: String(old), signature: signCallback(SECRET, old, BODY), toleranceSec: 90 })).toBe(true);
  });

  it('rejects a timestamp header that differs from the signed timestamp', () => {
    expect(verify({ timestamp: String(NOW - 1) })).toBe(false);
  });

  it.each<[string, string | null | undefined]>([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['not a number', 'yesterday'],
    ['fractional', `${NOW}.5`],
  ])('rejects a timestamp that is %s', (_what, timestamp) => {
    expect(verify({ timestamp })).toBe(false);
  });

  it.each<[string, (sig: string) => string | null | undefined]>([
    ['missing', () => undefined],
    ['empty', () => ''],
    ['without its v1= prefix', (sig) => sig.slice(3)],
    ['with another version', (sig) => `v0=${sig.slice(3)}`],
    ['in upper case', (sig) => `v1=${sig.slice(3).toUpperCase()}`],
    ['truncated', (sig) => sig.slice(0, -1)],
    ['with one hex digit changed', (sig) => sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0')],
  ])('rejects a signature that is %s', (_what, mangle) => {
    expect(verify({ signature: mangle(signCallback(SECRET, NOW, BODY)) })).toBe(false);
  });

  it('uses the real clock when no time is given', () => {
    const ts = Math.floor(Date.now() / 1000);
    expect(verifyCallback({ secret: SECRET, timestamp: String(ts), signature: signCallback(SECRET, ts, BODY), body: BODY })).toBe(true);
    expect(verifyCallback({ secret: SECRET, timestamp: String(NOW - 10_000), signature: signCallback(SECRET, NOW - 10_000, BODY), body: BODY })).toBe(false);
  });
});
