import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { policySchema } from '../../src/domain/policy/schema.js';
import {
  parseGrant,
  proposeBounds,
  standingCovers,
  standingEligible,
  standingPermission,
  withinBounds,
  type StandingBounds,
  type StandingRequest,
  type StandingScope,
} from '../../src/domain/standing.js';

const key = fc.constantFrom('amountUsd', 'qty', 'currency', 'vendor', 'note', 'rush');
const scalar = fc.oneof(fc.string({ maxLength: 5 }), fc.boolean(), fc.constant(null), fc.integer({ min: -5, max: 5 }).map(String));
const params = fc.dictionary(key, fc.oneof(fc.double({ min: -1000, max: 1000, noNaN: true }), scalar, fc.array(fc.integer(), { maxLength: 2 })));
const bounds: fc.Arbitrary<StandingBounds> = fc.record({
  max: fc.dictionary(key, fc.double({ min: -1000, max: 1000, noNaN: true })),
  equal: fc.dictionary(key, fc.oneof(scalar, fc.array(fc.integer(), { maxLength: 2 }))),
});

/** The specification, said another way: every bound, one at a time. */
function inside(b: StandingBounds, p: Record<string, unknown>): boolean {
  const maxOk = Object.keys(b.max).every((k) => k in p && typeof p[k] === 'number' && (p[k] as number) <= b.max[k]!);
  const eqOk = Object.keys(b.equal).every((k) => k in p && JSON.stringify(p[k]) === JSON.stringify(b.equal[k]));
  return maxOk && eqOk;
}

describe('a request matches a standing approval', () => {
  it('if and only if its params are within every bound', () => {
    fc.assert(fc.property(bounds, params, (b, p) => withinBounds(b, p) === inside(b, p)));
  });

  it('always for the request the bounds were proposed from, and never once a bounded number grows', () => {
    fc.assert(
      fc.property(params, fc.double({ min: 0.001, max: 1000, noNaN: true }), (p, more) => {
        const b = proposeBounds(p);
        expect(withinBounds(b, p)).toBe(true);
        for (const k of Object.keys(b.max)) expect(withinBounds(b, { ...p, [k]: (p[k] as number) + more })).toBe(false);
      }),
    );
  });

  it('never from a number written as a string, nor from a missing param', () => {
    const b: StandingBounds = { max: { amountUsd: 400 }, equal: { currency: 'USD' } };
    expect(withinBounds(b, { amountUsd: 400, currency: 'USD' })).toBe(true);
    expect(withinBounds(b, { amountUsd: '300', currency: 'USD' })).toBe(false);
    expect(withinBounds(b, { currency: 'USD' })).toBe(false);
    expect(withinBounds(b, { amountUsd: 300 })).toBe(false);
    expect(withinBounds(b, { amountUsd: Number.POSITIVE_INFINITY, currency: 'USD' })).toBe(false);
  });
});

const scope = (over: Partial<StandingScope> = {}): StandingScope => ({
  id: 's1',
  agentId: 'procurement-agent',
  actionType: 'purchases.create',
  route: 'default',
  grantedBy: 'U0APPROVER2',
  grantedVia: 'user',
  bounds: { max: { amountUsd: 400 }, equal: { currency: 'USD' } },
  expiresAt: new Date('2026-06-02T00:00:00Z'),
  maxCount: 3,
  usedCount: 0,
  maxSpendMicros: null,
  spentMicros: 0,
  revokedAt: null,
  ...over,
});
const request = (over: Partial<StandingRequest> = {}): StandingRequest => ({
  agentId: 'procurement-agent',
  actionType: 'purchases.create',
  route: 'default',
  routeApprovers: { users: ['U0APPROVER1', 'U0APPROVER2'] },
  owner: 'U0AGENTOWNR',
  params: { amountUsd: 300, currency: 'USD' },
  spendMicros: 300_000_000,
  now: new Date('2026-06-01T12:00:00Z'),
  ...over,
});

describe('a standing approval covers a request', () => {
  it('of the same agent, action and route, while active, within bounds', () => {
    expect(standingCovers(scope(), request())).toBe(true);
  });

  it.each([
    ['another agent', {}, { agentId: 'other' }],
    ['another action', {}, { actionType: 'purchases.cancel' }],
    ['another route', {}, { route: 'refunds' }],
    ['at its expiry', {}, { now: new Date('2026-06-02T00:00:00Z') }],
    ['once revoked', { revokedAt: new Date('2026-06-01T00:00:00Z') }, {}],
    ['once used up', { usedCount: 3 }, {}],
    ['past its spend limit', { maxSpendMicros: 500_000_000, spentMicros: 300_000_000 }, {}],
    ['whose grantor owns the agent', { grantedBy: 'U0AGENTOWNR' }, { routeApprovers: { users: ['U0AGENTOWNR'] } }],
    ['whose grantor is no longer an approver of the route', {}, { routeApprovers: { users: ['U0APPROVER1'] } }],
    ['granted through a user group the route no longer names', { grantedVia: 'usergroup:S0FINANCE1' }, { routeApprovers: { users: [], usergroup: 'S0OTHER01' } }],
  ] as Array<[string, Partial<StandingScope>, Partial<StandingRequest>]>)('but not %s', (_what, s, r) => {
    expect(standingCovers(scope(s), request(r))).toBe(false);
  });

  it('up to exactly its spend limit', () => {
    expect(standingCovers(scope({ maxSpendMicros: 600_000_000, spentMicros: 300_000_000 }), request())).toBe(true);
  });
});

describe('what the policy allows', () => {
  const policy = policySchema.parse({
    agents: [
      { id: 'a', actions: [{ action: 'x.open', tier: 'restricted' }, { action: 'x.shut', tier: 'restricted', standing: false }, { action: 'x.burn', tier: 'restricted', standing: true }] },
      { id: 'b', standing: false, actions: [{ action: 'x.open', tier: 'restricted' }] },
    ],
  });

  it('allows reversible actions by default, within the policy’s limits (24 h, 100 requests)', () => {
    expect(standingPermission(policy, 'a', 'x.open', true)).toEqual({ allowed: true, maxHours: 24, maxCount: 100 });
  });

  it('forbids it per agent, per action, by default for irreversible actions, and everywhere when turned off', () => {
    expect(standingPermission(policy, 'b', 'x.open', true).allowed).toBe(false);
    expect(standingPermission(policy, 'a', 'x.shut', true).allowed).toBe(false);
    expect(standingPermission(policy, 'a', 'x.open', false)).toMatchObject({ allowed: false, reason: expect.stringContaining('irreversible') });
    expect(standingPermission(policy, 'a', 'x.burn', false).allowed).toBe(true);
    expect(standingPermission({ ...policy, standing: { ...policy.standing, enabled: false } }, 'a', 'x.open', true).allowed).toBe(false);
    expect(standingPermission(undefined, 'a', 'x.open', true).allowed).toBe(false);
  });

  it('only for a request pending for its restricted tier alone', () => {
    expect(standingEligible({ outcome: 'pending', tier: 'restricted', triggers: [] })).toBe(true);
    expect(standingEligible({ outcome: 'pending', tier: 'restricted', triggers: [{ kind: 'low_confidence' }] })).toBe(false);
    // A review mode's wait on a looser tier is the promotion process's, not a grantor's.
    expect(standingEligible({ outcome: 'pending', tier: 'supervised', triggers: [] })).toBe(false);
    expect(standingEligible({ outcome: 'allow', tier: 'restricted', triggers: [] })).toBe(false);
  });
});

describe('a grant from the modal', () => {
  const ctx = { params: { amountUsd: 300, currency: 'USD', vendor: 'acme' }, maxHours: 24, maxCount: 100 };
  const form = { hours: '24', count: '10', spendUsd: '', max: {}, keep: ['currency', 'vendor'] };

  it('starts from the request and takes what the grantor changed', () => {
    expect(parseGrant({ ...form, spendUsd: '1000', max: { amountUsd: '400' }, keep: ['currency'] }, ctx)).toEqual({
      ok: true,
      grant: { hours: 24, maxCount: 10, maxSpendMicros: 1_000_000_000, bounds: { max: { amountUsd: 400 }, equal: { currency: 'USD' } } },
    });
  });

  it('names each bad field', () => {
    const r = parseGrant({ ...form, hours: '25', count: '0', spendUsd: 'lots', max: { amountUsd: 'x' }, keep: ['colour'] }, ctx);
    expect(r.ok).toBe(false);
    expect(Object.keys(!r.ok ? r.errors : {}).sort()).toEqual(['standing_count', 'standing_hours', 'standing_keep', 'standing_max:amountUsd', 'standing_spend']);
  });
});
