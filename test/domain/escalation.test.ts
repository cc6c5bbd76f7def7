import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeErrors, parseEscalation, type FieldError, type ParseResult } from '../../src/domain/escalation.js';

const EXAMPLE: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../examples/escalation.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

/** A deep copy of the example with `value` at `path` (undefined deletes the key). */
function withValue(path: readonly (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(EXAMPLE);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function failed(r: ParseResult): Extract<ParseResult, { ok: false }> {
  if (r.ok) throw new Error('expected the escalation to be rejected');
  return r;
}

/** Does some error name `field`, by its path or (for an unknown key) in its message? */
function namesField(errors: FieldError[], field: string): boolean {
  return errors.some((e) => e.path === field || (e.path === '(root)' && e.message.includes(`"${field}"`)));
}

describe('parseEscalation', () => {
  describe('on examples/escalation.json', () => {
    const result = parseEscalation(EXAMPLE);

    it('accepts the example', () => {
      expect(result).toMatchObject({ ok: true });
    });

    it('keeps what the agent sent: owner U0AGENTOWNR, payments.refund, routed as refund', () => {
      if (!result.ok) throw new Error(describeErrors(result.errors));
      expect(result.escalation.agent.owner).toBe('U0AGENTOWNR');
      expect(result.escalation.action.type).toBe('payments.refund');
      expect(result.escalation.action.params).toEqual((EXAMPLE.action as { params: unknown }).params);
      expect(result.escalation.issueType).toBe('refund');
      expect(result.escalation.callback?.url).toBe('https://agents.example.com/countersign/callback');
    });

    it('accepts its own output again unchanged (defaults applied once are stable)', () => {
      if (!result.ok) throw new Error(describeErrors(result.errors));
      expect(parseEscalation(result.escalation)).toEqual(result);
    });
  });

  it('defaults urgency to normal, and labels, params and tool versions to empty', () => {
    const bare = withValue(['urgency'], undefined);
    delete bare.labels;
    delete (bare.action as Record<string, unknown>).params;
    delete (bare.agent as Record<string, unknown>).toolVersions;
    const result = parseEscalation(bare);
    if (!result.ok) throw new Error(describeErrors(result.errors));
    expect(result.escalation.urgency).toBe('normal');
    expect(result.escalation.labels).toEqual({});
    expect(result.escalation.action.params).toEqual({});
    expect(result.escalation.agent.toolVersions).toEqual({});
  });

  it('accepts an escalation without deadline or callback (both optional)', () => {
    const bare = withValue(['deadline'], undefined);
    delete bare.callback;
    expect(parseEscalation(bare).ok).toBe(true);
  });

  it.each([0, 1])('accepts confidence %s, the ends of the range', (confidence) => {
    expect(parseEscalation(withValue(['confidence'], confidence)).ok).toBe(true);
  });

  it('accepts an Enterprise Grid owner id (W…)', () => {
    expect(parseEscalation(withValue(['agent', 'owner'], 'W0GRIDOWNER')).ok).toBe(true);
  });

  describe('rejects a bad field with an error whose path names it', () => {
    it.each<[string, (string | number)[], unknown, string]>([
      ['agent.owner that is a name, not a Slack id', ['agent', 'owner'], 'alice', 'agent.owner'],
      ['agent.owner that is a channel id', ['agent', 'owner'], 'C0GENERAL1', 'agent.owner'],
      ['agent.owner in lower case', ['agent', 'owner'], 'u0agentownr', 'agent.owner'],
      ['agent.owner that is a mention', ['agent', 'owner'], '<@U0AGENTOWNR>', 'agent.owner'],
      ['confidence above 1', ['confidence'], 1.01, 'confidence'],
      ['confidence below 0', ['confidence'], -0.1, 'confidence'],
      ['confidence as a string', ['confidence'], '0.9', 'confidence'],
      ['action.type without a dot', ['action', 'type'], 'refund', 'action.type'],
      ['action.type in upper case', ['action', 'type'], 'Payments.Refund', 'action.type'],
      ['action.type with a trailing dot', ['action', 'type'], 'payments.', 'action.type'],
      ['action.reversible missing', ['action', 'reversible'], undefined, 'action.reversible'],
      ['an unknown urgency', ['urgency'], 'urgent', 'urgency'],
      ['a deadline that is not ISO 8601', ['deadline'], 'next Tuesday', 'deadline'],
      ['a deadline without an offset', ['deadline'], '2030-01-01 00:00', 'deadline'],
      ['a deadline as epoch seconds', ['deadline'], 1893456000, 'deadline'],
      ['an ftp:// callback.url', ['callback', 'url'], 'ftp://agents.example.com/cb', 'callback.url'],
      ['a javascript: callback.url', ['callback', 'url'], 'javascript:alert(1)', 'callback.url'],
      ['a callback.url that is not a URL', ['callback', 'url'], 'agents.example.com', 'callback.url'],
      ['an unknown top-level key', ['sneaky'], true, 'sneaky'],
      ['an id that is not a UUID', ['id'], 'escalation-42', 'id'],
      ['an id missing', ['id'], undefined, 'id'],
      ['a trigger kind not in the list', ['trigger', 'kind'], 'email', 'trigger.kind'],
      ['negative tokens', ['cost', 'tokens'], -1, 'cost.tokens'],
      ['an empty executionId', ['executionId'], '', 'executionId'],
      ['reasoning over 20,000 characters', ['reasoning'], 'x'.repeat(20_001), 'reasoning'],
      ['an agent name over 200 characters', ['agent', 'name'], 'n'.repeat(201), 'agent.name'],
      ['a schema version other than 1', ['version'], 2, 'version'],
    ])('%s', (_what, path, value, field) => {
      const { errors } = failed(parseEscalation(withValue(path, value)));
      expect(namesField(errors, field), JSON.stringify(errors)).toBe(true);
    });

    it('says Required, and what was expected, for a missing field', () => {
      const { errors } = failed(parseEscalation(withValue(['reasoning'], undefined)));
      expect(errors).toContainEqual({ path: 'reasoning', message: 'Required (expected string)' });
    });

    it('says what an action type must look like', () => {
      const { errors } = failed(parseEscalation(withValue(['action', 'type'], 'refund')));
      expect(describeErrors(errors)).toContain('action.type: must be dotted lower-case like payments.refund');
    });

    it('names the offending key of an unknown top-level field', () => {
      const { errors } = failed(parseEscalation(withValue(['sneaky'], 1)));
      expect(errors).toContainEqual({ path: '(root)', message: expect.stringContaining('sneaky') });
    });

    it('reports every bad field, not only the first', () => {
      const bad = withValue(['confidence'], 7);
      (bad.agent as Record<string, unknown>).owner = 'alice';
      const { errors } = failed(parseEscalation(bad));
      expect(errors.map((e) => e.path)).toEqual(expect.arrayContaining(['confidence', 'agent.owner']));
    });

    it('caps the list at 20 errors, so the rejection stays small', () => {
      const { errors } = failed(parseEscalation(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]))));
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.length).toBeLessThanOrEqual(20);
    });
  });

  it.each([null, undefined, 42, 'escalation', [], [EXAMPLE]])('rejects job data that is not an object (%j) at (root)', (data) => {
    const result = failed(parseEscalation(data));
    expect(result.errors[0]?.path).toBe('(root)');
    expect(result).toMatchObject({ id: undefined, executionId: undefined, callbackUrl: undefined });
  });

  describe('on failure, salvages what is needed to record the rejection and tell the agent', () => {
    it('the id, the execution id and the callback URL, when they are well-formed', () => {
      const result = failed(parseEscalation(withValue(['confidence'], 3)));
      expect(result.id).toBe(EXAMPLE.id);
      expect(result.executionId).toBe(EXAMPLE.executionId);
      expect(result.callbackUrl).toBe('https://agents.example.com/countersign/callback');
    });

    it('even when almost everything else is missing', () => {
      const { id, executionId, callback } = EXAMPLE;
      expect(failed(parseEscalation({ id, executionId, callback }))).toMatchObject({
        id: EXAMPLE.id,
        executionId: EXAMPLE.executionId,
        callbackUrl: 'https://agents.example.com/countersign/callback',
      });
    });

    it('not an id that is not a UUID', () => {
      expect(failed(parseEscalation(withValue(['id'], 'escalation-42'))).id).toBeUndefined();
    });

    it('not a callback URL that is not http(s), since it would be refused as a destination', () => {
      const result = failed(parseEscalation(withValue(['callback', 'url'], 'ftp://agents.example.com/cb')));
      expect(result.callbackUrl).toBeUndefined();
      expect(result.id).toBe(EXAMPLE.id);
    });

    it('not an execution id that is empty or over 200 characters', () => {
      expect(failed(parseEscalation(withValue(['executionId'], ''))).executionId).toBeUndefined();
      expect(failed(parseEscalation(withValue(['executionId'], 'e'.repeat(201)))).executionId).toBeUndefined();
    });
  });

  describe('properties', () => {
    /** Every path into the example, inner nodes included, so any part can be broken. */
    const paths: (string | number)[][] = [];
    const collect = (v: unknown, path: (string | number)[]) => {
      if (path.length > 0) paths.push(path);
      if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) collect(x, [...path, k]);
    };
    collect(EXAMPLE, []);

    const weird = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });

    function wellFormed(r: ParseResult): void {
      if (r.ok) {
        // What is accepted is accepted again: the stored request re-validates.
        expect(parseEscalation(r.escalation).ok).toBe(true);
        return;
      }
      expect(r.errors.length).toBeGreaterThan(0);
      expect(r.errors.length).toBeLessThanOrEqual(20);
      for (const e of r.errors) {
        expect(typeof e.path).toBe('string');
        expect(e.path.length).toBeGreaterThan(0);
        expect(typeof e.message).toBe('string');
      }
      expect(() => describeErrors(r.errors)).not.toThrow();
    }

    it('never throws on anything at all, and a rejection always carries named errors', () => {
      fc.assert(
        fc.property(weird, (data) => {
          wellFormed(parseEscalation(data));
        }),
        { numRuns: 1000 },
      );
    });

    it('never throws on the example with one part replaced or deleted, and still salvages the untouched id, execution id and callback', () => {
      fc.assert(
        fc.property(fc.constantFrom(...paths), fc.option(weird, { nil: undefined }), (path, value) => {
          const result = parseEscalation(withValue(path, value));
          wellFormed(result);
          if (!result.ok) {
            const top = path[0];
            if (top !== 'id') expect(result.id).toBe(EXAMPLE.id);
            if (top !== 'executionId') expect(result.executionId).toBe(EXAMPLE.executionId);
            if (top !== 'callback') expect(result.callbackUrl).toBe('https://agents.example.com/countersign/callback');
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('never throws on the example with several parts replaced at once', () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), weird), { maxLength: 6 }), (edits) => {
          let data: Record<string, unknown> = structuredClone(EXAMPLE);
          for (const [path, value] of edits) {
            // Replace along the current shape; a path that no longer exists is skipped.
            let node: unknown = data;
            for (const key of path.slice(0, -1)) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
            if (typeof node === 'object' && node !== null) (node as Record<string, unknown>)[path[path.length - 1]!] = value;
            else data = { ...data };
          }
          wellFormed(parseEscalation(data));
        }),
        { numRuns: 300 },
      );
    });
  });
});
