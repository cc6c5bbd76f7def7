import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, requestDigest } from '../../src/domain/digest.js';
import { parseEscalation, type Escalation } from '../../src/domain/escalation.js';

const parsed = parseEscalation(JSON.parse(readFileSync(new URL('../../examples/escalation.json', import.meta.url), 'utf8')));
if (!parsed.ok) throw new Error('examples/escalation.json must be valid');
const EXAMPLE: Escalation = parsed.escalation;

/** The same value with object keys in another order, at every depth; `order` picks the permutation. */
function reorder(v: unknown, order: (keys: string[]) => string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => reorder(x, order));
  if (typeof v !== 'object' || v === null) return v;
  const rec = v as Record<string, unknown>;
  // fromEntries defines own properties, so a "__proto__" key stays a key.
  return Object.fromEntries(order(Object.keys(rec)).map((k) => [k, reorder(rec[k], order)]));
}

/** A copy of the example escalation with `edit` applied to it. */
function changed(edit: (e: Escalation) => void): Escalation {
  const copy = structuredClone(EXAMPLE);
  edit(copy);
  return copy;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('keeps array order, which carries meaning', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });

  it('leaves out undefined properties, as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('is independent of key order, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(reorder(v, (keys) => [...keys].reverse()))).toBe(canonicalJson(v));
      }),
      { numRuns: 500 },
    );
  });

  it('is independent of key order, for any object and any permutation of its keys', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 3 }), fc.infiniteStream(fc.double()), (obj, noise) => {
        const shuffle = (keys: string[]) =>
          keys
            .map((k) => [k, noise.next().value] as const)
            .sort((a, b) => a[1] - b[1])
            .map(([k]) => k);
        expect(canonicalJson(reorder(obj, shuffle))).toBe(canonicalJson(obj));
      }),
      { numRuns: 300 },
    );
  });

  it('is valid JSON that parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 500 },
    );
  });

  it('tells apart values that differ, e.g. a key in the wrong place', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        fc.pre(JSON.stringify(reorder(a, (k) => [...k].sort())) !== JSON.stringify(reorder(b, (k) => [...k].sort())));
        expect(canonicalJson(a)).not.toBe(canonicalJson(b));
      }),
      { numRuns: 300 },
    );
  });
});

describe('requestDigest', () => {
  const base = requestDigest(EXAMPLE);

  it('is 64 hex digits, the same for the same request', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(requestDigest(structuredClone(EXAMPLE))).toBe(base);
  });

  it('does not depend on the order in which the agent wrote its keys', () => {
    expect(requestDigest(reorder(EXAMPLE, (keys) => [...keys].reverse()) as Escalation)).toBe(base);
  });

  it.each<[string, (e: Escalation) => void]>([
    ['a param’s value', (e) => void (e.action.params.amountUsd = 3400)],
    ['a param’s type (340 vs "340")', (e) => void (e.action.params.amountUsd = '340')],
    ['an added param', (e) => void (e.action.params.note = 'x')],
    ['a removed param', (e) => void delete e.action.params.customerEmail],
    ['a nested param', (e) => void (e.action.params.items = [{ sku: 'A' }])],
    ['the action type', (e) => void (e.action.type = 'payments.refund_full')],
    ['whether the action is reversible', (e) => void (e.action.reversible = true)],
    ['the agent’s owner', (e) => void (e.agent.owner = 'U0SOMEONE2')],
    ['the agent id', (e) => void (e.agent.id = 'other-agent')],
    ['the model version', (e) => void (e.agent.modelVersion = '2026-01-01')],
    ['the execution id', (e) => void (e.executionId = 'exec-other')],
    ['the escalation id', (e) => void (e.id = '00000000-0000-4000-8000-000000000000')],
  ])('changes when %s changes', (_what, edit) => {
    expect(requestDigest(changed(edit))).not.toBe(base);
  });

  it.each<[string, (e: Escalation) => void]>([
    ['labels', (e) => void (e.labels = { team: 'finance', extra: 'y' })],
    ['reasoning', (e) => void (e.reasoning = 'Entirely different reasoning.')],
    ['confidence', (e) => void (e.confidence = 0.99)],
    ['urgency', (e) => void (e.urgency = 'critical')],
    ['the handoff', (e) => void (e.handoff.recommendation = 'Deny it.')],
    ['the cost', (e) => void (e.cost = { tokens: 1, usd: 0 })],
    ['the deadline', (e) => void (e.deadline = '2031-01-01T00:00:00Z')],
  ])('does not change when %s changes (not part of what is approved)', (_what, edit) => {
    expect(requestDigest(changed(edit))).toBe(base);
  });

  it('changes whenever any param changes to any other JSON value', () => {
    const keys = Object.keys(EXAMPLE.action.params);
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...keys), fc.string()), fc.jsonValue(), (key, value) => {
        const before = EXAMPLE.action.params[key];
        fc.pre(canonicalJson(value) !== canonicalJson(before));
        const after = changed((e) => {
          Object.defineProperty(e.action.params, key, { value, enumerable: true, writable: true, configurable: true });
        });
        expect(requestDigest(after)).not.toBe(base);
      }),
      { numRuns: 300 },
    );
  });
});
