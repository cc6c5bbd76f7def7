import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { castVote, isQuorum, stricterQuorum, tally, type ApprovalVote, type QuorumRule } from '../../src/domain/quorum.js';

const OWNER = 'U0AGENTOWNR';
const vote = (user: string, groups: string[] = []): ApprovalVote => ({ user, at: '2026-01-01T00:00:00Z', groups });
const twoOf: QuorumRule = { approvals: 2, groups: [] };
const financeAndRisk: QuorumRule = { approvals: 2, groups: ['S0FINANCE', 'S0RISK'] };

describe('tally', () => {
  it('is not met by one approval of two', () => {
    expect(tally(twoOf, [vote('U0A')], OWNER)).toMatchObject({ counted: [{ user: 'U0A' }], required: 2, met: false });
  });

  it('is met by two different approvers', () => {
    expect(tally(twoOf, [vote('U0A'), vote('U0B')], OWNER).met).toBe(true);
  });

  it('counts the same person once', () => {
    expect(tally(twoOf, [vote('U0A'), vote('U0A')], OWNER)).toMatchObject({ counted: [{ user: 'U0A' }], met: false });
  });

  it('never counts the owner', () => {
    expect(tally(twoOf, [vote(OWNER), vote('U0A')], OWNER)).toMatchObject({ counted: [{ user: 'U0A' }], met: false });
  });

  it('needs one approval from each group when two groups must approve', () => {
    expect(tally(financeAndRisk, [vote('U0A', ['S0FINANCE']), vote('U0B', ['S0FINANCE'])], OWNER)).toMatchObject({ met: false, missingGroups: ['S0RISK'] });
    expect(tally(financeAndRisk, [vote('U0A', ['S0FINANCE']), vote('U0B', ['S0RISK'])], OWNER)).toMatchObject({
      met: true,
      counted: [
        { user: 'U0A', group: 'S0FINANCE' },
        { user: 'U0B', group: 'S0RISK' },
      ],
      missingGroups: [],
    });
  });

  it('moves a member of both groups to the group nobody else covers', () => {
    const t = tally(financeAndRisk, [vote('U0BOTH', ['S0FINANCE', 'S0RISK']), vote('U0FIN', ['S0FINANCE'])], OWNER);
    expect(t.met).toBe(true);
    expect(t.counted).toEqual([
      { user: 'U0BOTH', group: 'S0RISK' },
      { user: 'U0FIN', group: 'S0FINANCE' },
    ]);
  });
});

describe('castVote', () => {
  it('refuses to count a second click by the same person', () => {
    expect(castVote(twoOf, [vote('U0A')], vote('U0A'), OWNER)).toEqual({ kind: 'already_voted' });
  });

  it('counts a new approver, and says when that completes the quorum', () => {
    const effect = castVote(twoOf, [vote('U0A')], vote('U0B'), OWNER);
    expect(effect).toMatchObject({ kind: 'counted', tally: { met: true } });
  });

  it('does not count a voter whose group already approved', () => {
    const effect = castVote(financeAndRisk, [vote('U0A', ['S0FINANCE'])], vote('U0B', ['S0FINANCE']), OWNER);
    expect(effect).toMatchObject({ kind: 'not_needed', tally: { missingGroups: ['S0RISK'] } });
  });
});

describe('the requirement', () => {
  it('takes the higher count, and at equal counts the one naming groups', () => {
    expect(stricterQuorum(twoOf, { approvals: 3, groups: [] }).approvals).toBe(3);
    expect(stricterQuorum(twoOf, financeAndRisk)).toBe(financeAndRisk);
    expect(stricterQuorum(financeAndRisk, twoOf)).toBe(financeAndRisk);
  });

  it('is a quorum only past one plain approval', () => {
    expect(isQuorum({ approvals: 1, groups: [] })).toBe(false);
    expect(isQuorum(twoOf)).toBe(true);
    expect(isQuorum({ approvals: 1, groups: ['S0FINANCE'] })).toBe(true);
  });
});

describe('quorum properties', () => {
  const user = fc.constantFrom('U0A', 'U0B', 'U0C', 'U0D', 'U0E', OWNER);
  const votes = fc.array(user, { maxLength: 12 }).map((us) => us.map((u) => vote(u)));

  it('is decided exactly when the distinct non-owner approvers reach M, and never counts the owner', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), votes, (m, vs) => {
        const t = tally({ approvals: m, groups: [] }, vs, OWNER);
        const distinct = new Set(vs.map((v) => v.user).filter((u) => u !== OWNER));
        expect(t.met).toBe(distinct.size >= m);
        expect(t.counted.map((c) => c.user)).not.toContain(OWNER);
        expect(new Set(t.counted.map((c) => c.user)).size).toBe(t.counted.length);
      }),
    );
  });

  it('counts each group at most once, and only groups the voter was in', () => {
    const groups = ['S0G1', 'S0G2', 'S0G3'];
    const groupVote = fc.record({ user, groups: fc.subarray(groups) }).map((v) => vote(v.user, v.groups));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(groupVote, { maxLength: 10 }), (m, vs) => {
        const t = tally({ approvals: m, groups }, vs, OWNER);
        const used = t.counted.map((c) => c.group!);
        expect(new Set(used).size).toBe(used.length);
        for (const c of t.counted) expect(vs.find((v) => v.user === c.user)!.groups).toContain(c.group);
        expect(t.counted.map((c) => c.user)).not.toContain(OWNER);
        expect(t.met).toBe(t.counted.length >= m);
      }),
    );
  });

  it('never lets a vote lower the count, and counts a vote only when the count grows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), votes, user, (m, vs, u) => {
        const rule = { approvals: m, groups: [] };
        const effect = castVote(rule, vs, vote(u), OWNER);
        const before = tally(rule, vs, OWNER).counted.length;
        if (effect.kind === 'counted') expect(effect.tally.counted.length).toBe(before + 1);
        if (u === OWNER) expect(effect.kind).not.toBe('counted');
      }),
    );
  });
});
