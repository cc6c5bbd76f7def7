import { castVote, quorumOf, type ApprovalVote, type QuorumRule } from '../domain/quorum.js';
import { approveByQuorum, lockEscalation, storeApprovals } from '../db/queries/approvals.js';
import { recordEvents, type EventInput } from '../db/queries/events.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import type { FlowPorts } from './ports.js';
import { secondsBetween, type DecideInput, type DecideOutcome } from './decide.js';

/**
 * Step 5 for an escalation that needs M approvals: an approve click by an
 * authorised approver (decide.ts checked the route, the owner and the digest)
 * is a vote. The vote and its `approval_recorded` event commit in one
 * transaction under the escalation's row lock; the vote that completes the
 * quorum makes, in the same transaction, the guarded UPDATE to approved and
 * `decision_made` naming every approver. So concurrent last votes yield one
 * decision: the first to take the lock decides, the next finds it approved.
 * A deny needs no quorum and goes the ordinary way (it ends the escalation).
 */
export async function commitVote(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'config'> & Partial<Pick<FlowPorts, 'now' | 'metrics'>>,
  input: DecideInput,
  row: EscalationRow,
  /** The clicker decides as this approver's out-of-office delegate: the vote is the approver's, so the two never count twice. */
  onBehalfOf?: string,
): Promise<DecideOutcome> {
  const rule = quorumOf(row);
  const voter = onBehalfOf ?? input.userId;
  // Group memberships from Slack (cached), before the lock is taken: no network call while it is held.
  const groups = await groupsOf(ports, rule, voter);
  const { version } = ports.config.current();
  const at = ports.now?.() ?? new Date();
  const base = { escalationId: row.id, executionId: row.executionId, actor: input.userId };
  const attempted = (outcome: string): EventInput => ({
    ...base,
    type: 'decision_attempted',
    data: { kind: input.kind, channel: input.channel ?? null, digest: input.digest, outcome },
  });

  const outcome = await ports.db.transaction(async (tx): Promise<DecideOutcome> => {
    const locked = await lockEscalation(tx, row.id);
    if (!locked || locked.status === 'rejected') return { kind: 'unknown' };
    if (locked.status !== 'pending') {
      await recordEvents(tx, [attempted('already_decided')]);
      return { kind: 'already', row: locked };
    }
    const vote: ApprovalVote = { user: voter, at: at.toISOString(), groups };
    const effect = castVote(rule, locked.approvals, vote, locked.agentOwner);
    if (effect.kind === 'already_voted') {
      await recordEvents(tx, [attempted('already_voted')]);
      return { kind: 'already_voted', row: locked };
    }
    if (effect.kind === 'not_needed') {
      await recordEvents(tx, [attempted('refused'), { ...base, type: 'decision_refused', data: { kind: input.kind, reason: 'approval_not_needed', missingGroups: effect.tally.missingGroups } }]);
      return { kind: 'refused', reason: 'approval_not_needed', route: locked.route, missingGroups: effect.tally.missingGroups };
    }
    const votes = [...locked.approvals, vote];
    const { tally } = effect;
    const counted = tally.counted.map((c) => c.user);
    const recorded: EventInput = {
      ...base,
      type: 'approval_recorded',
      data: { digest: input.digest, channel: input.channel ?? null, approvals: counted.length, required: tally.required, approvers: counted, groups, ...(onBehalfOf ? { onBehalfOf } : {}), ...(rule.groups.length > 0 ? { countedFor: tally.counted.at(-1)?.group ?? null, missingGroups: tally.missingGroups } : {}) },
    };
    if (!tally.met) {
      const stored = await storeApprovals(tx, row.id, input.digest, votes);
      if (!stored) return { kind: 'refused', reason: 'request_changed', route: locked.route };
      await recordEvents(tx, [attempted('vote_recorded'), recorded]);
      return { kind: 'voted', row: stored };
    }
    const made = await approveByQuorum(tx, { id: row.id, digest: input.digest, by: input.userId, reason: null, policyVersion: version, at }, votes);
    if (!made) return { kind: 'refused', reason: 'request_changed', route: locked.route };
    await recordEvents(tx, [
      attempted('made'),
      recorded,
      // As decide.ts records a single approval, plus who approved: every counted approver, in order.
      {
        ...base,
        type: 'decision_made',
        data: { status: 'approved', reason: null, digest: input.digest, policyVersion: version, route: row.route, channel: input.channel ?? row.channel, actionType: row.actionType, agentId: row.agentId, approvers: counted, approvalsRequired: tally.required },
      },
    ]);
    return { kind: 'made', row: made };
  });
  if (outcome.kind === 'made') ports.metrics?.decided({ status: 'approved', tier: outcome.row.tier }, secondsBetween(outcome.row.createdAt, outcome.row.decidedAt));
  return outcome;
}

/** Which of the rule's groups the voter is in now; none asked when the rule names none. */
async function groupsOf(ports: Pick<FlowPorts, 'slack'>, rule: QuorumRule, userId: string): Promise<string[]> {
  if (rule.groups.length === 0) return [];
  const members = await Promise.all(rule.groups.map((g) => ports.slack.usergroupMembers(g)));
  return rule.groups.filter((_, i) => members[i]!.includes(userId));
}

/** After a vote that did not decide: the card shows it (its own notify job per vote count, so none is deduplicated away). */
export async function afterVote(ports: Pick<FlowPorts, 'scheduler'>, row: EscalationRow): Promise<void> {
  await ports.scheduler.enqueueNotify(row.id, 'votes', String(row.approvals.length));
}
