import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS as T, demotionTarget, describeThresholds, meetsBar, promotionTarget } from '../../src/domain/promotion.js';
import { policySchema } from '../../src/domain/policy/schema.js';

const rec = (actions: number, errors: number) => ({ actions, errors });

describe('promotion at the boundaries (the seed: 100 successful actions under 2%, 1,000 under 1%)', () => {
  it.each([
    ['99 successful actions, no errors', rec(99, 0), undefined],
    ['100 successful actions, no errors', rec(100, 0), 'post_action'],
    ['100 actions with 1 error: only 99 successful', rec(100, 1), undefined],
    ['102 actions, 2 errors: 100 successful at 1.96%', rec(102, 2), 'post_action'],
    ['150 actions, 3 errors: exactly 2% does not qualify', rec(150, 3), undefined],
    ['150 actions, 2 errors: 1.33%', rec(150, 2), 'post_action'],
  ] as const)('pre-action review with %s → %s', (_name, r, to) => {
    expect(promotionTarget('pre_action', r, T)).toBe(to);
  });

  it.each([
    ['999 successful actions', rec(999, 0), undefined],
    ['1,000 successful actions', rec(1000, 0), 'exception_only'],
    ['1,010 actions, 10 errors (0.99%)', rec(1010, 10), 'exception_only'],
    ['1,100 actions, 11 errors: exactly 1% does not qualify', rec(1100, 11), undefined],
  ] as const)('post-action audit with %s → %s', (_name, r, to) => {
    expect(promotionTarget('post_action', r, T)).toBe(to);
  });

  it('proposes one step at a time and never past the ceiling or exception-only', () => {
    expect(promotionTarget('pre_action', rec(5000, 0), T)).toBe('post_action');
    expect(promotionTarget('exception_only', rec(5000, 0), T)).toBeUndefined();
    expect(promotionTarget('post_action', rec(5000, 0), T, 'post_action')).toBeUndefined();
  });

  it('takes no evidence from an empty record', () => {
    expect(meetsBar(rec(0, 0), { ...T.post_action, minSuccesses: 1 })).toBe(false);
  });
});

describe('demotion by error rate', () => {
  it('demotes one step once the rate reaches the bar of the current mode, after enough actions', () => {
    expect(demotionTarget('post_action', rec(50, 1), T)).toBe('pre_action');
    expect(demotionTarget('post_action', rec(51, 1), T)).toBeUndefined();
    expect(demotionTarget('exception_only', rec(100, 1), T)).toBe('post_action');
    expect(demotionTarget('exception_only', rec(101, 1), T)).toBeUndefined();
    expect(demotionTarget('post_action', rec(49, 10), T)).toBeUndefined();
    expect(demotionTarget('pre_action', rec(100, 100), T)).toBeUndefined();
  });
});

describe('thresholds in the config', () => {
  it('default to the seed and are shown in words', () => {
    const p = policySchema.parse({});
    expect(p.promotion).toMatchObject({ post_action: { minSuccesses: 100, maxErrorRate: 0.02 }, exception_only: { minSuccesses: 1000, maxErrorRate: 0.01 } });
    expect(describeThresholds(p.promotion)[0]).toBe('post-action audit: 100 successful actions with an error rate under 2%; back one step at 2% or more (after 50 actions)');
  });

  it('can be changed, and reject a rate above 1 naming the field', () => {
    const p = policySchema.parse({ promotion: { post_action: { minSuccesses: 20 } } });
    expect(p.promotion.post_action).toEqual({ minSuccesses: 20, maxErrorRate: 0.02, demoteAtErrorRate: 0.02 });
    const bad = policySchema.safeParse({ promotion: { exception_only: { maxErrorRate: 2 } } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['promotion', 'exception_only', 'maxErrorRate']);
  });
});
