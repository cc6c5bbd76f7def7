import { describe, expect, it } from 'vitest';
import { conditionSchema, describeCondition, domainsOf, globToRegExp, holds, type Condition } from '../../../src/domain/policy/conditions.js';

const params = { amountUsd: 340, currency: 'USD', to: 'Ann <ann@acme.example>', url: 'https://files.acme.example/x', tags: ['a', 'b'], nested: { level: 3 }, code: 'ORD-4521' };

describe('conditions', () => {
  it.each<[string, Condition, boolean]>([
    ['eq', { param: 'currency', eq: 'USD' }, true],
    ['ne', { param: 'currency', ne: 'USD' }, false],
    ['gt', { param: 'amountUsd', gt: 340 }, false],
    ['gte', { param: 'amountUsd', gte: 340 }, true],
    ['lt', { param: 'amountUsd', lt: 500 }, true],
    ['lte', { param: 'amountUsd', lte: 339.99 }, false],
    ['between is inclusive', { param: 'amountUsd', between: [340, 500] }, true],
    ['in', { param: 'currency', in: ['EUR', 'USD'] }, true],
    ['notIn', { param: 'currency', notIn: ['EUR'] }, true],
    ['notIn on a missing param is false', { param: 'missing', notIn: ['EUR'] }, false],
    ['matches', { param: 'code', matches: '^ORD-\\d+$' }, true],
    ['glob', { param: 'code', glob: 'ORD-*' }, true],
    ['inDomains reads an address in angle brackets', { param: 'to', inDomains: ['acme.example'] }, true],
    ['inDomains reads a URL host', { param: 'url', inDomains: ['*.acme.example'] }, true],
    ['notInDomains', { param: 'to', notInDomains: ['other.example'] }, true],
    ['a dotted path', { param: 'nested.level', gte: 3 }, true],
    ['exists', { param: 'nested', exists: true }, true],
    ['exists: false on a missing param', { param: 'nope', exists: false }, true],
    ['a comparison on a missing param is false', { param: 'nope', gt: 0 }, false],
    ['a comparison on a non-number is false', { param: 'currency', gt: 0 }, false],
    ['all', { all: [{ param: 'amountUsd', gt: 100 }, { param: 'currency', eq: 'USD' }] }, true],
    ['any', { any: [{ param: 'amountUsd', gt: 1000 }, { param: 'currency', eq: 'EUR' }] }, false],
    ['not', { not: { param: 'currency', eq: 'EUR' } }, true],
  ])('%s', (_name, c, expected) => {
    expect(conditionSchema.parse(c)).toEqual(c);
    expect(holds(c, params)).toBe(expected);
  });

  it('never reads inherited properties such as __proto__ or constructor', () => {
    expect(holds({ param: 'constructor', exists: true }, {})).toBe(false);
    expect(holds({ param: '__proto__', exists: true }, {})).toBe(false);
  });

  it('rejects a test with no operator, two operators or a bad regex at load', () => {
    expect(conditionSchema.safeParse({ param: 'x' }).success).toBe(false);
    expect(conditionSchema.safeParse({ param: 'x', gt: 1, lt: 2 }).success).toBe(false);
    expect(conditionSchema.safeParse({ param: 'x', matches: '(' }).success).toBe(false);
    expect(conditionSchema.safeParse({ param: 'x', eval: 'process.exit()' }).success).toBe(false);
  });

  it('globs: * stays within one dotted segment, ** crosses them', () => {
    expect(globToRegExp('crm.*').test('crm.read')).toBe(true);
    expect(globToRegExp('crm.*').test('crm.notes.read')).toBe(false);
    expect(globToRegExp('crm.**').test('crm.notes.read')).toBe(true);
  });

  it('finds every domain in lists of addresses', () => {
    expect(domainsOf(['a@x.example, b@Y.example', 'https://z.example/p'])).toEqual(['x.example', 'y.example', 'z.example']);
  });

  it('describes conditions for humans', () => {
    expect(describeCondition({ all: [{ param: 'amountUsd', gt: 500 }, { not: { param: 'to', inDomains: ['acme.example'] } }] })).toBe(
      'amountUsd > 500 and not (to inDomains ["acme.example"])',
    );
  });
});
