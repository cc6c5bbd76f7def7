import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawPositions, drawSample, prng, sampleSize, uniformInt } from '../../src/domain/sampling.js';
import { parseReviewArgs } from '../../src/domain/batch-review.js';

const hexSeed = fc.stringMatching(/^[0-9a-f]{32}$/);

/** Seeds for the statistical tests, themselves drawn from a fixed seed: the test is deterministic. */
function seeds(count: number): string[] {
  const next = prng('0123456789abcdef0123456789abcdef');
  return Array.from({ length: count }, () => Array.from({ length: 4 }, () => next().toString(16).padStart(8, '0')).join(''));
}

/** Pearson's chi-square statistic of observed counts against one expected count. */
const chiSquare = (observed: number[], expected: number) => observed.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);

describe('sampling', () => {
  it('draws every position equally often (chi-square, 19 degrees of freedom, p = 0.001)', () => {
    const n = 20;
    const k = 5;
    const trials = 20_000;
    const hits = new Array<number>(n).fill(0);
    for (const seed of seeds(trials)) for (const p of drawPositions(seed, n, k)) hits[p]!++;
    // 43.82 is the 0.999 quantile of chi-square with 19 df: a biased draw (say, never the last position) fails it.
    expect(chiSquare(hits, (trials * k) / n)).toBeLessThan(43.82);
  });

  it('draws every pair of positions equally often, so the subsets are uniform and not just the marginals', () => {
    const n = 6;
    const k = 2;
    const trials = 15_000;
    const pairs = new Map<string, number>();
    for (const seed of seeds(trials)) {
      const key = drawPositions(seed, n, k).join(',');
      pairs.set(key, (pairs.get(key) ?? 0) + 1);
    }
    expect(pairs.size).toBe(15);
    // 15 subsets, 14 df: the 0.999 quantile is 36.12.
    expect(chiSquare([...pairs.values()], trials / 15)).toBeLessThan(36.12);
  });

  it('gives the same sample for the same seed and population, and k distinct sorted positions', () => {
    fc.assert(
      fc.property(hexSeed, fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 100 }), (seed, n, percent) => {
        const k = sampleSize(n, percent);
        const a = drawPositions(seed, n, k);
        expect(drawPositions(seed, n, k)).toEqual(a);
        expect(new Set(a).size).toBe(k);
        expect(a.every((p, i) => p >= 0 && p < n && (i === 0 || a[i - 1]! < p))).toBe(true);
      }),
    );
  });

  it('rounds the sample size up, so any non-empty window yields at least one action, and never exceeds the population', () => {
    expect(sampleSize(0, 5)).toBe(0);
    expect(sampleSize(1, 5)).toBe(1);
    expect(sampleSize(40, 5)).toBe(2);
    expect(sampleSize(41, 5)).toBe(3);
    expect(sampleSize(800, 5)).toBe(40);
    expect(sampleSize(7, 100)).toBe(7);
  });

  it('maps positions back to the population it was given', () => {
    const population = Array.from({ length: 100 }, (_, i) => `action-${i}`);
    const drawn = drawSample('ffffffffffffffffffffffffffffffff', population, 10);
    expect(drawn).toHaveLength(10);
    expect(drawSample('ffffffffffffffffffffffffffffffff', population, 10)).toEqual(drawn);
    expect(drawSample('00000000000000000000000000000001', population, 10)).not.toEqual(drawn);
  });

  it('refuses a malformed seed and keeps uniformInt in range', () => {
    expect(() => prng('not-hex')).toThrow(/seed must be 32 lower-case hex/);
    const next = prng('abcdefabcdefabcdefabcdefabcdefab');
    for (let i = 0; i < 1000; i++) expect(uniformInt(next, 7)).toBeLessThan(7);
  });
});

describe('/countersign review arguments', () => {
  it('defaults to all agents, 5%, 7 days, by DM', () => {
    expect(parseReviewArgs([])).toEqual({ ok: true, request: { agentId: null, percent: 5, days: 7, destination: 'dm' } });
  });

  it('reads an agent, a percent and days in either notation, and the thread option', () => {
    expect(parseReviewArgs(['support-agent', '10', '14'])).toEqual({ ok: true, request: { agentId: 'support-agent', percent: 10, days: 14, destination: 'dm' } });
    expect(parseReviewArgs(['14d', 'all', '10%', 'in:thread'])).toEqual({ ok: true, request: { agentId: null, percent: 10, days: 14, destination: 'thread' } });
  });

  it('reads a redraw: the recorded seed and window end', () => {
    expect(parseReviewArgs(['support-agent', '10%', '7d', 'seed:0123456789abcdef0123456789abcdef', 'until:2026-11-25T09:00:00.000Z'])).toEqual({
      ok: true,
      request: { agentId: 'support-agent', percent: 10, days: 7, destination: 'dm', seed: '0123456789abcdef0123456789abcdef', until: new Date('2026-11-25T09:00:00.000Z') },
    });
    expect(parseReviewArgs(['seed:0123456789abcdef0123456789abcdef'])).toMatchObject({ ok: false, error: expect.stringContaining('needs the window end too') });
    expect(parseReviewArgs(['seed:xyz', 'until:2026-11-25T09:00:00Z'])).toMatchObject({ ok: false, error: expect.stringContaining('seed must be the 32 hex characters') });
  });

  it('refuses a percent or a window out of range with a message naming it', () => {
    expect(parseReviewArgs(['all', '0'])).toMatchObject({ ok: false, error: expect.stringContaining('percent must be a whole number from 1 to 100 (got 0)') });
    expect(parseReviewArgs(['150%'])).toMatchObject({ ok: false, error: expect.stringContaining('(got 150)') });
    expect(parseReviewArgs(['5', '91'])).toMatchObject({ ok: false, error: expect.stringContaining('days must be a whole number from 1 to 90 (got 91)') });
    expect(parseReviewArgs(['5', '0d'])).toMatchObject({ ok: false, error: expect.stringContaining('(got 0)') });
    expect(parseReviewArgs(['a', 'b'])).toMatchObject({ ok: false, error: expect.stringContaining('unexpected word "b"') });
  });
});
