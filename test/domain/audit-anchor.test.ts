import { describe, expect, it } from 'vitest';
import { anchorText, checkAnchors, parseAnchor } from '../../src/domain/audit-anchor.js';

const h = (c: string) => c.repeat(64);

describe('anchor messages', () => {
  it('round-trip through the message text', () => {
    const a = { eventId: 123456, hash: h('a'), count: 120_000 };
    expect(parseAnchor(anchorText(a))).toEqual(a);
  });

  it('ignore text without an exact v1 line', () => {
    expect(parseAnchor('countersign-anchor v1 event=1 hash=abc count=1')).toBeUndefined();
    expect(parseAnchor(undefined)).toBeUndefined();
  });
});

describe('checkAnchors', () => {
  const posted = (eventId: number, hash: string) => ({ eventId, hash, count: 1, ts: `${eventId}.000100` });
  const chain = new Map([[20, h('b')], [30, h('c')]]);

  it('matches, mismatches, and finds anchors beyond the end of the chain', () => {
    const checks = checkAnchors([posted(20, h('b')), posted(30, h('d')), posted(40, h('e'))], (id) => chain.get(id), undefined);
    expect(checks.map((c) => c.kind)).toEqual(['match', 'mismatch', 'missing']);
  });

  const DAY = 86_400_000;
  const now = new Date('2026-11-25T12:00:00Z');
  /** An anchor posted `daysAgo` before now. */
  const postedAt = (eventId: number, hash: string, daysAgo: number) => ({ eventId, hash, count: 1, ts: ((now.getTime() - daysAgo * DAY) / 1000).toFixed(6) });
  const checkpoint = { upTo: 10, hash: h('f'), cutoff: new Date(now.getTime() - 365 * DAY), at: new Date(now.getTime() - DAY) };

  it('cannot check anchors before the retention checkpoint, except one at the checkpoint itself', () => {
    const checks = checkAnchors([postedAt(5, h('x'), 400), postedAt(10, h('f'), 380), postedAt(10, h('0'), 380)], () => undefined, checkpoint, now);
    expect(checks.map((c) => c.kind)).toEqual(['pruned', 'match', 'mismatch']);
  });

  it('catches a forged checkpoint: one that claims to have pruned an event anchored after its cutoff, or one that is impossible', () => {
    const recent = [postedAt(9, h('x'), 2)];
    expect(checkAnchors(recent, () => undefined, checkpoint, now).map((c) => c.kind)).toEqual(['inconsistent']);
    // Cutoff moved up to hide the recent anchor: then it keeps less than the minimum retention.
    const tooShort = { ...checkpoint, cutoff: new Date(now.getTime() - 3 * DAY) };
    expect(checkAnchors(recent, () => undefined, tooShort, now).map((c) => c.kind)).toEqual(['inconsistent']);
    // Or recorded in the future to make room for it.
    const future = { ...tooShort, at: new Date(now.getTime() + 40 * DAY) };
    expect(checkAnchors(recent, () => undefined, future, now).map((c) => c.kind)).toEqual(['inconsistent']);
  });
});
