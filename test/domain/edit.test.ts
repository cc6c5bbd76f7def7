import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvedDigest, canonicalJson } from '../../src/domain/digest.js';
import { applyEdits, diffParams, editRefusal, editableFields, editedParamsOf, hiddenEditableIssues, parseEdits } from '../../src/domain/edit.js';
import { approvalOf } from '../../src/domain/decision.js';
import { policySchema, type Policy } from '../../src/domain/policy/schema.js';
import { createRedactor } from '../../src/domain/redact.js';

const policy: Policy = policySchema.parse({
  agents: [
    {
      id: 'procurement-agent',
      actions: [
        {
          action: 'purchases.create',
          tier: 'autonomous',
          spendParam: 'amountUsd',
          editable: ['amountUsd', 'note', 'vendor', 'missing'],
          highStakes: { param: 'amountUsd', gt: 5000 },
          rules: [
            { when: { param: 'amountUsd', gt: 250 }, tier: 'restricted', reason: 'purchase over $250' },
            { when: { param: 'amountUsd', gt: 1000 }, tier: 'restricted', reason: 'purchase over $1,000' },
            { when: { param: 'vendor', in: ['unvetted'] }, deny: true, reason: 'unvetted vendor' },
          ],
        },
        { action: 'purchases.cancel', tier: 'restricted' },
      ],
    },
  ],
});
const redactor = createRedactor();
const req = { agentId: 'procurement-agent', actionType: 'purchases.create', issueType: 'procurement', confidence: 0.95 };
const params = { amountUsd: 400, note: 'two chairs', vendor: 'acme', tags: ['office'] };
const fields = editableFields(policy, 'procurement-agent', 'purchases.create', params);

describe('editableFields', () => {
  it("lists the policy's editable params the request carries, typed by their values, in the policy's order", () => {
    expect(fields).toEqual([
      { name: 'amountUsd', kind: 'number', value: 400, multiline: false },
      { name: 'note', kind: 'text', value: 'two chairs', multiline: false },
      { name: 'vendor', kind: 'text', value: 'acme', multiline: false },
    ]);
  });

  it('offers nothing for actions without editable params, other agents, or values that are neither numbers nor strings', () => {
    expect(editableFields(policy, 'procurement-agent', 'purchases.cancel', params)).toEqual([]);
    expect(editableFields(policy, 'someone-else', 'purchases.create', params)).toEqual([]);
    expect(editableFields(policy, 'procurement-agent', 'purchases.create', { amountUsd: '400', note: { text: 'x' } }).map((f) => f.kind)).toEqual(['text']);
    expect(editableFields(undefined, 'procurement-agent', 'purchases.create', params)).toEqual([]);
  });
});

describe('parseEdits', () => {
  it('keeps only the values that changed, typed like the request', () => {
    expect(parseEdits(fields, { amountUsd: ' 199.50 ', note: 'two chairs', vendor: 'acme' }, redactor)).toEqual({ ok: true, edits: { amountUsd: 199.5 } });
    expect(parseEdits(fields, {}, redactor)).toEqual({ ok: true, edits: {} });
  });

  it('names the field of every invalid value', () => {
    const r = parseEdits(fields, { amountUsd: '-1', note: 'x'.repeat(3001), vendor: '' }, redactor);
    expect(r).toEqual({
      ok: false,
      forged: false,
      errors: { amountUsd: 'Must not be negative.', note: 'Too long: at most 3,000 characters (3,001 given).', vendor: 'Required: the agent asked with a value here.' },
    });
    for (const bad of ['abc', '1e3', '0x10', '1,000', 'Infinity', 'NaN']) {
      expect(parseEdits(fields, { amountUsd: bad }, redactor)).toMatchObject({ ok: false, errors: { amountUsd: 'Must be a number, like 200 or 199.99.' } });
    }
    expect(parseEdits(fields, { amountUsd: '' }, redactor)).toMatchObject({ ok: false, errors: { amountUsd: 'Required: enter a number.' } });
    expect(parseEdits(fields, { note: 'a\u0000b' }, redactor)).toMatchObject({ ok: false, errors: { note: expect.stringContaining('cannot be stored') } });
  });

  it('refuses a param the modal never offered, as forged', () => {
    expect(parseEdits(fields, { amountUsd: '300', tags: '["x"]' }, redactor)).toEqual({ ok: false, forged: true, errors: { tags: 'This param is not editable for this action.' } });
  });

  it('refuses values the redactor would mask: the agent would receive the mask', () => {
    expect(parseEdits(fields, { note: 'mail jane.doe@example.com' }, redactor)).toMatchObject({ ok: false, errors: { note: expect.stringContaining('personal data') } });
  });

  it('never lets a non-negative number go negative, and accepts any plain decimal within range', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), (n) => {
        const text = n.toFixed(2);
        const r = parseEdits(fields, { amountUsd: text }, redactor);
        expect(r.ok).toBe(true);
        if (r.ok && Number(text) !== 400) expect(r.edits).toEqual({ amountUsd: Number(text) });
        expect(parseEdits(fields, { amountUsd: `-${text === '0.00' ? '1' : text}` }, redactor).ok).toBe(false);
      }),
    );
  });
});

describe('applyEdits and diffParams', () => {
  it('diffs exactly the edited params, with both versions', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('amountUsd', 'note', 'vendor'), fc.oneof(fc.integer(), fc.string())), (edits) => {
        const after = applyEdits(params, edits);
        const diff = diffParams(params, after);
        const changed = Object.keys(edits).filter((k) => canonicalJson(edits[k]) !== canonicalJson(params[k as keyof typeof params]));
        expect(diff.map((d) => d.name).sort()).toEqual(changed.sort());
        for (const d of diff) expect(d).toEqual({ name: d.name, from: params[d.name as keyof typeof params], to: edits[d.name] });
        // Nothing but the edited params moves.
        expect(after.tags).toEqual(params.tags);
        expect(editedParamsOf({ approvedParams: after, request: { action: { params } } })).toEqual(Object.fromEntries(diff.map((d) => [d.name, d.to])));
      }),
    );
  });
});

describe('editRefusal: the policy on the edited request', () => {
  const refusal = (to: Record<string, unknown>, from: Record<string, unknown> = params) => editRefusal(policy, req, from, { ...from, ...to });

  it('lets an edit that needs less, or the same, through', () => {
    expect(refusal({ amountUsd: 200 })).toBeUndefined();
    expect(refusal({ amountUsd: 900 })).toBeUndefined();
    expect(refusal({ note: 'three chairs' })).toBeUndefined();
    expect(refusal({})).toBeUndefined();
  });

  it('refuses an edit that falls under a rule the request did not, naming the rule and the field', () => {
    expect(refusal({ amountUsd: 1500 })).toEqual({
      field: 'amountUsd',
      rule: 'policy.agents[0].actions[0].rules[1]',
      message: expect.stringContaining('purchase over $1,000'),
    });
  });

  it('refuses an edit that raises the tier', () => {
    expect(refusal({ amountUsd: 400 }, { ...params, amountUsd: 100 })).toMatchObject({ field: 'amountUsd', message: expect.stringContaining('makes it restricted') });
  });

  it('refuses an edit the policy denies, and one that makes it high stakes', () => {
    expect(refusal({ vendor: 'unvetted' })).toMatchObject({ field: 'vendor', rule: 'policy.agents[0].actions[0].rules[2]', message: expect.stringContaining('unvetted vendor') });
    expect(refusal({ amountUsd: 6000 }, { ...params, amountUsd: 1200 })).toMatchObject({ field: 'amountUsd', rule: 'policy.agents[0].actions[0].highStakes' });
  });

  it('never lets an edit reach a rule or tier the request did not (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 10_000 }), (from, to) => {
        const r = refusal({ amountUsd: to }, { ...params, amountUsd: from });
        const band = (n: number) => (n > 5000 ? 3 : n > 1000 ? 2 : n > 250 ? 1 : 0);
        expect(r === undefined).toBe(band(to) <= band(from));
      }),
    );
  });
});

describe('approvedDigest and approvalOf', () => {
  it('is the request digest when nothing was edited, and binds the edits otherwise', () => {
    const asked = 'a'.repeat(64);
    expect(approvedDigest(asked, {})).toBe(asked);
    const one = approvedDigest(asked, { amountUsd: 200 });
    expect(one).toMatch(/^[0-9a-f]{64}$/);
    expect(one).not.toBe(approvedDigest(asked, { amountUsd: 201 }));
    expect(one).not.toBe(approvedDigest('b'.repeat(64), { amountUsd: 200 }));
    expect(approvalOf(asked, null, null)).toEqual({ edited: false, editedParams: {}, requestDigest: asked, approvedDigest: asked });
    expect(approvalOf(asked, one, { amountUsd: 200 })).toEqual({ edited: true, editedParams: { amountUsd: 200 }, requestDigest: asked, approvedDigest: one });
  });
});

describe('editable in the policy config', () => {
  const parse = (editable: unknown) => policySchema.safeParse({ agents: [{ id: 'a', actions: [{ action: 'x.y', tier: 'restricted', editable }] }] });

  it('takes top-level param names, each once', () => {
    expect(parse(['amountUsd', 'note_2', 'due-date']).success).toBe(true);
    for (const bad of [['customer.email'], ['amount Usd'], ['1st'], ['__proto__'], ['a', 'a'], ['']]) {
      expect(parse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('reports names whose value the redactor always hides', () => {
    const p = policySchema.parse({ agents: [{ id: 'a', actions: [{ action: 'x.y', tier: 'restricted', editable: ['amountUsd', 'Token'] }] }] });
    expect(hiddenEditableIssues(p, ['token'])).toEqual([{ path: ['policy', 'agents', 0, 'actions', 0, 'editable', 1], message: 'Token is always masked (a redacted field), so it cannot be edited' }]);
  });
});
