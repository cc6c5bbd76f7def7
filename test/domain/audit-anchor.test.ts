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

  it('cannot check anchors before the retention checkpoint, except one at the checkpoint itself', () => {
    const checks = checkAnchors([posted(5, h('x')), posted(10, h('f')), posted(10, h('0'))], () => undefined, { upTo: 10, hash: h('f') });
    expect(checks.map((c) => c.kind)).toEqual(['pruned', 'match', 'mismatch']);
  });
});
