import { describe, expect, it } from 'vitest';
import { count, duration, percent, plural, usd, usdMicros } from '../../src/domain/format.js';

describe('numbers as people read them', () => {
  it('groups dollars and keeps cents: $2,400.00 and $50,000.00', () => {
    expect(usd(2400)).toBe('$2,400.00');
    expect(usd(50_000)).toBe('$50,000.00');
    expect(usd(0.41)).toBe('$0.41');
    expect(usd(0)).toBe('$0.00');
    expect(usdMicros(8_200_000_000)).toBe('$8,200.00');
  });

  it('shows a cost below a cent with two significant digits rather than $0.00', () => {
    expect(usd(0.0042)).toBe('$0.0042');
    expect(usd(0.000012)).toBe('$0.000012');
  });

  it('groups counts and picks the singular for one: 1 request, 8,000 tokens', () => {
    expect(count(1_234_567)).toBe('1,234,567');
    expect(plural(1, 'request')).toBe('1 request');
    expect(plural(1, 'error')).toBe('1 error');
    expect(plural(0, 'error')).toBe('0 errors');
    expect(plural(8000, 'token')).toBe('8,000 tokens');
    expect(plural(2, 'sample', 'samples')).toBe('2 samples');
  });

  it('shows a rate as a percentage without trailing zeros', () => {
    expect(percent(0.625)).toBe('62.5%');
    expect(percent(0.4)).toBe('40%');
    expect(percent(0.02)).toBe('2%');
    expect(percent(1 / 3)).toBe('33.33%');
  });
});

describe('durations as people say them', () => {
  it('rounds down to its largest units', () => {
    expect(duration(-5)).toBe('0 s');
    expect(duration(40_900)).toBe('40 s');
    expect(duration(3 * 60_000 + 59_000)).toBe('3 min');
    expect(duration(2 * 3_600_000)).toBe('2 h');
    expect(duration(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min');
    expect(duration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3 d 4 h');
    expect(duration(1200 * 86_400_000)).toBe('1,200 d');
  });
});
