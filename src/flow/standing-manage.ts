import { forgetCandidates, getStanding, liveStanding, revokeStandingRecorded } from '../db/queries/standing.js';
import { recordEvents } from '../db/queries/events.js';
import type { StandingApprovalRow } from '../db/schema/standing-approvals.js';
import { mayAdminister } from './pause.js';
import type { FlowPorts } from './ports.js';

export type RevokeOutcome = { kind: 'revoked'; row: StandingApprovalRow } | { kind: 'already'; row: StandingApprovalRow } | { kind: 'refused'; row: StandingApprovalRow } | { kind: 'unknown' };

/**
 * Revokes a standing approval: its grantor, or an admin (the policy's and the
 * agent's `admins`); anyone else is refused, and the attempt recorded. A
 * guarded UPDATE in Postgres, which every use checks in its own guarded
 * UPDATE: once this commits, no further request is approved under it.
 */
export async function revokeStanding(ports: Pick<FlowPorts, 'db' | 'config' | 'slack' | 'now'>, id: string, userId: string): Promise<RevokeOutcome> {
  const row = await getStanding(ports.db, id);
  if (!row) return { kind: 'unknown' };
  if (row.grantedBy !== userId && !(await mayAdminister(ports, row.agentId, userId))) {
    await recordEvents(ports.db, [{ escalationId: row.createdFrom, type: 'standing_refused', actor: userId, data: { standingId: id, action: 'revoke', reason: 'not_grantor_or_admin' } }]);
    return { kind: 'refused', row };
  }
  if (row.revokedAt) return { kind: 'already', row };
  const revoked = await revokeStandingRecorded(
    ports.db,
    { id, by: userId, at: ports.now() },
    { escalationId: row.createdFrom, type: 'standing_revoked', actor: userId, data: { standingId: id, grantedBy: row.grantedBy, usedCount: row.usedCount, maxCount: row.maxCount } },
  );
  // Its claim guard refuses it from now on anyway; this process also stops offering it at once.
  forgetCandidates(row.agentId, row.actionType);
  if (revoked) return { kind: 'revoked', row: revoked };
  return { kind: 'already', row: (await getStanding(ports.db, id)) ?? row };
}

/** The standing approvals still in force (not revoked, not expired), for `/countersign standing`. */
export function activeStanding(ports: Pick<FlowPorts, 'db' | 'now'>): Promise<StandingApprovalRow[]> {
  return liveStanding(ports.db, ports.now());
}
