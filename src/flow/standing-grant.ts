import { randomUUID } from 'node:crypto';
import type { Route } from '../domain/config.js';
import type { Escalation } from '../domain/escalation.js';
import { routeByName } from '../domain/routing.js';
import { describeBounds, standingEligible, standingPermission, type Grant, type StandingPermission } from '../domain/standing.js';
import { recordEvents } from '../db/queries/events.js';
import { forgetCandidates, insertStanding } from '../db/queries/standing.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import type { DecisionExtra } from './decide.js';
import type { FlowPorts } from './ports.js';

/**
 * May a standing approval be granted with this escalation? Only for one that
 * waits for nothing but its restricted tier (any trigger reaches a person
 * each time), and only where the policy allows it for the agent and action
 * (never an irreversible one, unless the action says `standing: true`).
 * Who may grant is who may approve: checked by the decision itself.
 */
export function grantPermission(config: ReturnType<FlowPorts['config']['current']>['config'], row: EscalationRow): StandingPermission {
  if (!standingEligible({ status: row.status, tier: row.tier, triggers: row.triggers, approvals: row.approvalsRequired })) {
    return { allowed: false, reason: 'only a request that waits for its restricted tier alone, for one approver, can be approved for similar ones: a trigger sends each one to a person, and a quorum needs each approver' };
  }
  const reversible = (row.request as Partial<Escalation> | null)?.action?.reversible ?? false;
  return standingPermission(config.policy, row.agentId ?? '', row.actionType ?? '', reversible);
}

/** How the grantor is an approver of the route, checked again at each use: named, or through its user group. */
export function grantedVia(route: Route, userId: string): string {
  return route.approvers.users.includes(userId) ? 'user' : `usergroup:${route.approvers.usergroup ?? ''}`;
}

/**
 * The standing approval, written in the approval's transaction only if the
 * approval wins (src/flow/decide.ts): both commit, or neither.
 */
export function standingGrantExtra(
  ports: Pick<FlowPorts, 'config'>,
  row: EscalationRow,
  userId: string,
  grant: Grant,
  now: Date,
): { id: string; extra: DecisionExtra } {
  const id = randomUUID();
  const route = routeByName(ports.config.current().config, row.route ?? '');
  const expiresAt = new Date(now.getTime() + grant.hours * 3_600_000);
  const scope = describeBounds(grant.bounds);
  const data = {
    standingId: id,
    agentId: row.agentId,
    actionType: row.actionType,
    route: row.route,
    bounds: grant.bounds,
    scope,
    hours: grant.hours,
    expiresAt: expiresAt.toISOString(),
    maxCount: grant.maxCount,
    maxSpendUsd: grant.maxSpendMicros === null ? null : grant.maxSpendMicros / 1e6,
  };
  return {
    id,
    extra: {
      decisionData: { standing: id },
      events: [{ escalationId: row.id, executionId: row.executionId, type: 'standing_granted', actor: userId, data }],
      async write(tx) {
        await insertStanding(tx, {
          id,
          agentId: row.agentId ?? '',
          actionType: row.actionType ?? '',
          route: row.route ?? '',
          grantedBy: userId,
          grantedVia: route ? grantedVia(route, userId) : 'user',
          createdFrom: row.id,
          bounds: grant.bounds,
          createdAt: now,
          expiresAt,
          maxCount: grant.maxCount,
          maxSpendMicros: grant.maxSpendMicros,
        });
        forgetCandidates(row.agentId ?? '', row.actionType ?? '');
      },
    },
  };
}

/** A grant the policy refuses (a forged submission, or the policy changed while the modal was open): recorded, nothing decided. */
export async function recordGrantRefused(ports: Pick<FlowPorts, 'db'>, row: EscalationRow, userId: string, reason: string): Promise<void> {
  await recordEvents(ports.db, [{ escalationId: row.id, executionId: row.executionId, type: 'standing_refused', actor: userId, data: { reason } }]);
}
