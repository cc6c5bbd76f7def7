import { authorize, type DecisionKind } from '../domain/authz.js';
import { routeByName } from '../domain/routing.js';
import { decideEscalationRecorded } from '../db/queries/escalations.js';
import { getEscalationGrouped } from '../db/queries/card-batch.js';
import { recordEvents, type EventInput } from '../db/queries/events.js';
import type { DbOrTx } from '../db/client.js';
import { delegationsTo } from '../db/queries/delegations.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import type { FlowPorts } from './ports.js';
import { redactorOf } from '../domain/audit-config.js';
import { afterVote, commitVote } from './vote.js';
import { needsQuorum } from '../domain/quorum.js';
import type { SubmittedValues } from '../domain/edit.js';
import { resolveEdit } from './edit.js';

export interface DecideInput {
  escalationId: string;
  /** The digest the clicked card was built for. */
  digest: string;
  userId: string;
  kind: DecisionKind;
  reason: string | null;
  /** Where the click came from, for the record. */
  channel?: string;
  /** Edit and approve…: the values the approver submitted, per param name (approve only). */
  edit?: SubmittedValues;
}

export type DecideOutcome =
  | { kind: 'made'; row: EscalationRow }
  | { kind: 'already'; row: EscalationRow }
  /** A quorum's approval counted, and more are needed (vote.ts): still pending. */
  | { kind: 'voted'; row: EscalationRow }
  /** The clicker's approval already counts: a repeated click changes nothing. */
  | { kind: 'already_voted'; row: EscalationRow }
  /**
   * `route`: the escalation's, named in the refusal ("not an approver for route `refunds`").
   * `approval_not_needed`: a quorum from distinct groups, and the clicker is in none of the groups still missing (`missingGroups`).
   */
  | { kind: 'refused'; reason: 'not_an_approver' | 'owner_cannot_approve' | 'request_changed' | 'no_route' | 'approval_not_needed'; route: string | null; missingGroups?: string[] }
  | { kind: 'unknown' }
  /** An edit that was not approved: per param, why (shown on the modal's field). Nothing was decided. */
  | { kind: 'invalid'; errors: Record<string, string> };

/**
 * More to commit with an approval, in its transaction and only if it won
 * (a standing approval granted with it, src/flow/standing-grant.ts).
 */
export interface DecisionExtra {
  /** Recorded after the decision's own events. */
  events: EventInput[];
  /** Merged into the `decision_made` event's data. */
  decisionData?: Record<string, unknown>;
  write(tx: DbOrTx, made: EscalationRow): Promise<void>;
}

/** Time to decision (s); 0 when the decision time is missing (never, after a guarded UPDATE). */
export function secondsBetween(from: Date, to: Date | null): number {
  return to ? Math.max(0, (to.getTime() - from.getTime()) / 1000) : 0;
}

/** What mayDecide needs; with `db`, out-of-office delegations count too (src/domain/delegation.ts). */
export type DeciderPorts = Pick<FlowPorts, 'slack' | 'config'> & Partial<Pick<FlowPorts, 'db' | 'now'>>;

/**
 * Who may decide this escalation's route: configured users plus the user
 * group's members, and (given `db`) the delegates of those in force now,
 * on their behalf. The delegations are read only when the person is not an
 * approver themselves, so an approver's click costs no extra query.
 */
export async function authorizeDecider(
  ports: DeciderPorts,
  row: EscalationRow,
  userId: string,
  kind: DecisionKind,
): Promise<{ refusal?: DeciderRefusal; onBehalfOf?: string }> {
  const route = routeByName(ports.config.current().config, row.route ?? '');
  if (!route) return { refusal: { kind: 'refused', reason: 'no_route', route: row.route } };
  const members = route.approvers.usergroup ? await ports.slack.usergroupMembers(route.approvers.usergroup) : [];
  const input = { userId, kind, approvers: route.approvers, usergroupMembers: members, agentOwner: row.agentOwner ?? '' };
  let authz = authorize(input);
  if (!authz.allowed && authz.reason === 'not_an_approver' && ports.db) {
    const now = ports.now?.() ?? new Date();
    const delegators = (await delegationsTo(ports.db, userId, now)).map((d) => d.delegator);
    if (delegators.length > 0) authz = authorize({ ...input, delegators });
  }
  if (!authz.allowed) return { refusal: { kind: 'refused', reason: authz.reason, route: row.route } };
  return authz.onBehalfOf ? { onBehalfOf: authz.onBehalfOf } : {};
}

/** Why a person may not decide (or hand off) an escalation at all. */
export type DeciderRefusal = { kind: 'refused'; reason: 'not_an_approver' | 'owner_cannot_approve' | 'no_route'; route: string | null };

/** authorizeDecider's refusal, or undefined when `userId` may make this decision (themselves or as a delegate). */
export async function mayDecide(ports: DeciderPorts, row: EscalationRow, userId: string, kind: DecisionKind): Promise<DeciderRefusal | undefined> {
  return (await authorizeDecider(ports, row, userId, kind)).refusal;
}

/**
 * Step 5: a human decides. Authorised first, then a compare-and-set on
 * `status = 'pending'` and the digest, with its events in the same
 * transaction. Exactly one click wins; the rest learn who did.
 */
export async function decide(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'config' | 'scheduler'> & Partial<Pick<FlowPorts, 'now' | 'metrics'>>,
  input: DecideInput,
): Promise<DecideOutcome> {
  const outcome = await commitDecision(ports, input);
  if (outcome.kind === 'made') await afterDecision(ports, outcome.row);
  if (outcome.kind === 'voted') await afterVote(ports, outcome.row);
  return outcome;
}

/**
 * The durable part of `decide`: when it resolves, the outcome is in Postgres
 * (the decision, or the attempt's refusal). A click is acknowledged to Slack
 * only after this (src/slack/listeners/decision-ack.ts).
 */
export async function commitDecision(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'config'> & Partial<Pick<FlowPorts, 'now' | 'metrics'>>,
  input: DecideInput,
  extra?: DecisionExtra,
): Promise<DecideOutcome> {
  const row = await getEscalationGrouped(ports.db, input.escalationId);
  if (!row || row.status === 'rejected') return { kind: 'unknown' };
  const base = { escalationId: row.id, executionId: row.executionId, actor: input.userId };
  const attempted = {
    ...base,
    type: 'decision_attempted' as const,
    data: { kind: input.kind, channel: input.channel ?? null, digest: input.digest },
  };

  if (row.status !== 'pending') {
    await recordEvents(ports.db, [{ ...attempted, data: { ...attempted.data, outcome: 'already_decided' } }]);
    return { kind: 'already', row };
  }
  const authz = await authorizeDecider(ports, row, input.userId, input.kind);
  const refusal =
    authz.refusal ??
    (row.digest !== input.digest ? ({ kind: 'refused', reason: 'request_changed', route: row.route } as const) : undefined);
  if (refusal) {
    await recordEvents(ports.db, [
      { ...attempted, data: { ...attempted.data, outcome: 'refused' } },
      { ...base, type: 'decision_refused', data: { kind: input.kind, reason: refusal.kind === 'refused' ? refusal.reason : null } },
    ]);
    return refusal;
  }
  const { version, config } = ports.config.current();
  // M approvers: an approval is a vote, counted under the row's lock; a deny still ends it at once.
  // Each approver votes for the request as asked: an edit would leave the others approving something else.
  if (input.kind === 'approve' && needsQuorum(row)) {
    if (input.edit) return { kind: 'invalid', errors: Object.fromEntries(Object.keys(input.edit).map((k) => [k, 'This request needs more than one approver, so it can only be approved as asked.'])) };
    return commitVote(ports, input, row, authz.onBehalfOf);
  }
  // Edit and approve: the edited request is checked here, after the approver and before the UPDATE.
  const resolved = input.edit && input.kind === 'approve' ? resolveEdit(config, row, input.edit) : undefined;
  if (resolved?.kind === 'invalid') {
    if (resolved.refusal) {
      await recordEvents(ports.db, [
        { ...attempted, data: { ...attempted.data, outcome: 'refused' } },
        { ...base, type: 'decision_refused', data: { kind: input.kind, reason: resolved.refusal.reason, rule: resolved.refusal.rule ?? null, edited: { from: resolved.refusal.from ?? null, to: resolved.refusal.to ?? null } } },
      ]);
    }
    return { kind: 'invalid', errors: resolved.errors };
  }
  const edit = resolved?.edit;
  const status = input.kind === 'approve' ? 'approved' : 'denied';
  // A delegate decides in the delegator's place: the record names both.
  const onBehalfOf = authz.onBehalfOf;
  const behalf = onBehalfOf ? { onBehalfOf } : {};
  // The approver's words are stored and shown like agent text: PII masked first.
  const reason = input.reason === null ? null : redactorOf(config.audit).text(input.reason);
  // The guarded UPDATE and its events in one statement: they commit together, or, if another click won, not at all.
  const write = (db: DbOrTx) =>
    decideEscalationRecorded(
      db,
      { id: row.id, digest: input.digest, status, by: input.userId, reason, policyVersion: version, ...(ports.now ? { at: ports.now() } : {}), ...behalf, ...(edit ? { edited: { params: edit.params, digest: edit.digest } } : {}) },
      [
        { ...attempted, data: { ...attempted.data, outcome: 'made' } },
        // The decision record names its route and the request it was shown, so it stands on its own in an export.
        { ...base, type: 'decision_made', data: { status, reason, digest: input.digest, policyVersion: version, route: row.route, channel: input.channel ?? row.channel, actionType: row.actionType, agentId: row.agentId, ...behalf, ...(edit ? { edited: { from: edit.from, to: edit.to, approvedDigest: edit.digest } } : {}), ...extra?.decisionData } },
        ...(extra?.events ?? []),
      ],
    );
  // With an extra write, one transaction: both commit, or (another click won) neither.
  const made = extra
    ? await ports.db.transaction(async (tx) => {
        const won = await write(tx);
        if (won) await extra.write(tx, won);
        return won;
      })
    : await write(ports.db);
  if (!made) {
    await recordEvents(ports.db, [{ ...attempted, data: { ...attempted.data, outcome: 'already_decided' } }]);
    const latest = await getEscalationGrouped(ports.db, row.id);
    return { kind: 'already', row: latest ?? row };
  }
  ports.metrics?.decided({ status, tier: made.tier }, secondsBetween(made.createdAt, made.decidedAt));
  return { kind: 'made', row: made };
}

/**
 * What follows a committed decision: the notify job (card, decision store,
 * callback) and cancelling the remaining escalation-chain steps (a step already
 * firing checks the status itself). Both are queue jobs; if the process dies
 * before they are enqueued, the outbox sweep (sweep.ts) finds the unnotified
 * decision and a chain step finds it decided.
 */
export async function afterDecision(ports: Pick<FlowPorts, 'scheduler'>, made: EscalationRow): Promise<void> {
  // Independent, so side by side.
  await Promise.all([ports.scheduler.enqueueNotify(made.id), ports.scheduler.cancelChain(made.id)]);
}
