import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorize, type DecisionKind } from '../../src/domain/authz.js';
import type { Approvers } from '../../src/domain/config.js';

const OWNER = 'U0AGENTOWNR';
const APPROVER = 'U0APPROVER1';
const approvers: Approvers = { users: [APPROVER, 'U0APPROVER2'] };

const slackId = fc.stringMatching(/^[UW][A-Z0-9]{2,10}$/);

describe('authorize', () => {
  it('lets a listed approver approve', () => {
    expect(authorize({ userId: APPROVER, kind: 'approve', approvers, usergroupMembers: [], agentOwner: OWNER })).toEqual({ allowed: true });
  });

  it('lets a listed approver deny', () => {
    expect(authorize({ userId: APPROVER, kind: 'deny', approvers, usergroupMembers: [], agentOwner: OWNER })).toEqual({ allowed: true });
  });

  it.each<DecisionKind>(['approve', 'deny'])('refuses someone who is not an approver (%s)', (kind) => {
    expect(authorize({ userId: 'U0STRANGER', kind, approvers, usergroupMembers: [], agentOwner: OWNER })).toEqual({
      allowed: false,
      reason: 'not_an_approver',
    });
  });

  it('lets a member of the route’s user group decide, though not listed by id', () => {
    const groupOnly: Approvers = { users: [], usergroup: 'S0FINANCE1' };
    for (const kind of ['approve', 'deny'] as const) {
      expect(authorize({ userId: 'U0FINANCE7', kind, approvers: groupOnly, usergroupMembers: ['U0FINANCE7'], agentOwner: OWNER })).toEqual({
        allowed: true,
      });
    }
  });

  it('refuses someone outside both the list and the user group', () => {
    const result = authorize({
      userId: 'U0STRANGER',
      kind: 'approve',
      approvers: { users: [APPROVER], usergroup: 'S0FINANCE1' },
      usergroupMembers: ['U0FINANCE7'],
      agentOwner: OWNER,
    });
    expect(result).toEqual({ allowed: false, reason: 'not_an_approver' });
  });

  it('never lets the agent’s owner approve, even when listed as an approver', () => {
    const withOwner: Approvers = { users: [OWNER, APPROVER] };
    expect(authorize({ userId: OWNER, kind: 'approve', approvers: withOwner, usergroupMembers: [], agentOwner: OWNER })).toEqual({
      allowed: false,
      reason: 'owner_cannot_approve',
    });
  });

  it('never lets the owner approve through user-group membership either', () => {
    const result = authorize({
      userId: OWNER,
      kind: 'approve',
      approvers: { users: [], usergroup: 'S0FINANCE1' },
      usergroupMembers: [OWNER],
      agentOwner: OWNER,
    });
    expect(result).toEqual({ allowed: false, reason: 'owner_cannot_approve' });
  });

  it('lets an owner who is an approver deny: denying is the fail-safe outcome', () => {
    expect(authorize({ userId: OWNER, kind: 'deny', approvers: { users: [OWNER] }, usergroupMembers: [], agentOwner: OWNER })).toEqual({
      allowed: true,
    });
  });

  it('refuses an owner who is not an approver, whichever button', () => {
    expect(authorize({ userId: OWNER, kind: 'deny', approvers, usergroupMembers: [], agentOwner: OWNER })).toEqual({
      allowed: false,
      reason: 'not_an_approver',
    });
    expect(authorize({ userId: OWNER, kind: 'approve', approvers, usergroupMembers: [], agentOwner: OWNER }).allowed).toBe(false);
  });

  it('matches ids exactly: a prefix or another case is not the same user', () => {
    for (const userId of ['U0APPROVER', 'u0approver1', 'U0APPROVER11', ` ${APPROVER}`]) {
      expect(authorize({ userId, kind: 'approve', approvers, usergroupMembers: [], agentOwner: OWNER }).allowed).toBe(false);
    }
  });

  describe('properties', () => {
    it('the owner can never approve, for any approvers and user group that include them', () => {
      fc.assert(
        fc.property(
          slackId,
          fc.array(slackId, { maxLength: 10 }),
          fc.array(slackId, { maxLength: 10 }),
          fc.constantFrom('users', 'group', 'both'),
          fc.nat(),
          (owner, users, members, where, at) => {
            const listed = where !== 'group' ? [...users.slice(0, at % (users.length + 1)), owner, ...users.slice(at % (users.length + 1))] : users;
            const group = where !== 'users' ? [...members, owner] : members;
            const result = authorize({
              userId: owner,
              kind: 'approve',
              approvers: { users: listed, usergroup: 'S0GROUP1' },
              usergroupMembers: group,
              agentOwner: owner,
            });
            expect(result).toEqual({ allowed: false, reason: 'owner_cannot_approve' });
          },
        ),
      );
    });

    it('anyone allowed is on the list or in the group, and is not the owner approving', () => {
      fc.assert(
        fc.property(
          slackId,
          fc.constantFrom<DecisionKind>('approve', 'deny'),
          fc.array(slackId, { maxLength: 5 }),
          fc.array(slackId, { maxLength: 5 }),
          slackId,
          (userId, kind, users, members, owner) => {
            const result = authorize({ userId, kind, approvers: { users }, usergroupMembers: members, agentOwner: owner });
            const isApprover = users.includes(userId) || members.includes(userId);
            expect(result.allowed).toBe(isApprover && !(kind === 'approve' && userId === owner));
          },
        ),
        { numRuns: 500 },
      );
    });

    it('an approver who is not the owner may always decide either way', () => {
      fc.assert(
        fc.property(slackId, slackId, fc.array(slackId, { maxLength: 5 }), (userId, owner, others) => {
          fc.pre(userId !== owner);
          for (const kind of ['approve', 'deny'] as const) {
            expect(authorize({ userId, kind, approvers: { users: [...others, userId] }, usergroupMembers: [], agentOwner: owner })).toEqual({
              allowed: true,
            });
          }
        }),
      );
    });
  });
});

describe('authorize, with out-of-office delegations', () => {
  const DELEGATE = 'U0DELEGATE';

  it('lets the delegate of an approver decide, on their behalf', () => {
    for (const kind of ['approve', 'deny'] as const) {
      expect(authorize({ userId: DELEGATE, kind, approvers, usergroupMembers: [], agentOwner: OWNER, delegators: [APPROVER] })).toEqual({ allowed: true, onBehalfOf: APPROVER });
    }
  });

  it('gives the delegate of someone who is not an approver nothing', () => {
    expect(authorize({ userId: DELEGATE, kind: 'deny', approvers, usergroupMembers: [], agentOwner: OWNER, delegators: ['U0STRANGER'] })).toEqual({ allowed: false, reason: 'not_an_approver' });
  });

  it('never lets the owner approve as a delegate, even of an approver', () => {
    expect(authorize({ userId: OWNER, kind: 'approve', approvers, usergroupMembers: [], agentOwner: OWNER, delegators: [APPROVER] })).toEqual({ allowed: false, reason: 'owner_cannot_approve' });
  });

  it('never lets anyone approve on behalf of the owner, though they may deny for them', () => {
    const withOwner: Approvers = { users: [OWNER] };
    expect(authorize({ userId: DELEGATE, kind: 'approve', approvers: withOwner, usergroupMembers: [], agentOwner: OWNER, delegators: [OWNER] })).toEqual({ allowed: false, reason: 'not_an_approver' });
    expect(authorize({ userId: DELEGATE, kind: 'deny', approvers: withOwner, usergroupMembers: [], agentOwner: OWNER, delegators: [OWNER] })).toEqual({ allowed: true, onBehalfOf: OWNER });
  });

  it('decides as themselves when the delegate is an approver in their own right', () => {
    expect(authorize({ userId: APPROVER, kind: 'approve', approvers, usergroupMembers: [], agentOwner: OWNER, delegators: ['U0APPROVER2'] })).toEqual({ allowed: true });
  });

  it('never lets the owner approve, whoever delegated to whom', () => {
    fc.assert(
      fc.property(slackId, fc.array(slackId, { maxLength: 4 }), fc.array(slackId, { maxLength: 4 }), (owner, users, delegators) => {
        const r = authorize({ userId: owner, kind: 'approve', approvers: { users: [...users, owner] }, usergroupMembers: [], agentOwner: owner, delegators: [...delegators, owner] });
        const byOthers = delegators.map((d) => authorize({ userId: d === owner ? 'U0OTHER' : d, kind: 'approve', approvers: { users: [owner] }, usergroupMembers: [], agentOwner: owner, delegators: [owner] }));
        return !r.allowed && byOthers.every((x) => !x.allowed);
      }),
    );
  });
});
