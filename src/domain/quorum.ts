/**
 * Quorum: an escalation that needs M approvals from different people, and
 * optionally each from a different user group ("one from finance, one from
 * risk"). Pure: group memberships are looked up by the caller and stored with
 * each vote, so a stored escalation is judged by what was true at each click.
 */

/** What an escalation needs before it is approved; fixed at intake, so a policy reload never moves the bar. */
export interface QuorumRule {
  /** Approvals from distinct people; 1 is the ordinary single approval. */
  approvals: number;
  /** When non-empty: each counted approval from a member of a different one of these user groups. */
  groups: readonly string[];
}

/** One approve click that counted, as stored on the escalation (`approvals`). */
export interface ApprovalVote {
  user: string;
  /** ISO time of the click's commit. */
  at: string;
  /** The required groups the voter belonged to at the click (empty when the rule names none). */
  groups: string[];
}

export const SINGLE_APPROVAL: QuorumRule = { approvals: 1, groups: [] };

/** Needs more than the ordinary one click by any approver of the route. */
export const isQuorum = (q: QuorumRule): boolean => q.approvals > 1 || q.groups.length > 0;

/** How an escalation stores its bar (intake fixed it from the policy in force then). */
export interface StoredQuorum {
  approvalsRequired: number;
  approvalGroups: string[] | null;
}
export const quorumOf = (row: StoredQuorum): QuorumRule => ({ approvals: row.approvalsRequired, groups: row.approvalGroups ?? [] });
/** More than one plain approval: approve clicks are votes (src/flow/vote.ts). */
export const needsQuorum = (row: StoredQuorum): boolean => isQuorum(quorumOf(row));

/** The stricter of two requirements: more approvals; at equal counts, the one that names groups. */
export function stricterQuorum(a: QuorumRule, b: QuorumRule): QuorumRule {
  if (a.approvals !== b.approvals) return a.approvals > b.approvals ? a : b;
  return b.groups.length > 0 && a.groups.length === 0 ? b : a;
}

export interface QuorumTally {
  /** Who counts, in vote order; with groups, the group each one is counted for. */
  counted: Array<{ user: string; group?: string }>;
  required: number;
  met: boolean;
  /** Groups still without a counted approval (only when the rule names groups). */
  missingGroups: string[];
}

/**
 * Who counts towards the quorum. Each person at most once, the agent's owner
 * never (whatever the stored votes say). Without groups every such voter
 * counts; with groups, a largest matching of voters to distinct groups (a
 * voter in two groups may cover either), found by augmenting paths: a handful
 * of voters and groups, so the cost is nothing.
 */
export function tally(rule: QuorumRule, votes: readonly ApprovalVote[], owner: string | null): QuorumTally {
  const seen = new Set<string>();
  const eligible = votes.filter((v) => {
    if (v.user === owner || seen.has(v.user)) return false;
    seen.add(v.user);
    return true;
  });
  if (rule.groups.length === 0) {
    const counted = eligible.map((v) => ({ user: v.user }));
    return { counted, required: rule.approvals, met: counted.length >= rule.approvals, missingGroups: [] };
  }
  const required = new Set(rule.groups);
  const groupOf = new Map<string, string>(); // group → user
  const userGroup = new Map<string, string>(); // user → group
  const tryAssign = (v: ApprovalVote, visited: Set<string>): boolean => {
    for (const g of v.groups) {
      if (!required.has(g) || visited.has(g)) continue;
      visited.add(g);
      const holder = groupOf.get(g);
      const holderVote = holder === undefined ? undefined : eligible.find((x) => x.user === holder);
      if (holderVote === undefined || tryAssign(holderVote, visited)) {
        groupOf.set(g, v.user);
        userGroup.set(v.user, g);
        return true;
      }
    }
    return false;
  };
  for (const v of eligible) tryAssign(v, new Set());
  const counted = eligible.filter((v) => userGroup.has(v.user)).map((v) => ({ user: v.user, group: userGroup.get(v.user)! }));
  return {
    counted,
    required: rule.approvals,
    met: counted.length >= rule.approvals,
    missingGroups: rule.groups.filter((g) => !groupOf.has(g)),
  };
}

/** What one more approve click does: count (and perhaps complete the quorum), or nothing. */
export type VoteEffect =
  | { kind: 'counted'; tally: QuorumTally }
  | { kind: 'already_voted' }
  /** With groups: the voter is in none of the groups still needed, so the click would change nothing. */
  | { kind: 'not_needed'; tally: QuorumTally };

/** The owner is refused before this (authz.ts); here they would simply not count. */
export function castVote(rule: QuorumRule, votes: readonly ApprovalVote[], vote: ApprovalVote, owner: string | null): VoteEffect {
  if (votes.some((v) => v.user === vote.user)) return { kind: 'already_voted' };
  const before = tally(rule, votes, owner);
  const after = tally(rule, [...votes, vote], owner);
  return after.counted.length > before.counted.length ? { kind: 'counted', tally: after } : { kind: 'not_needed', tally: before };
}
