import { authorize } from '../domain/authz.js';
import type { People } from '../domain/policy/schema.js';
import { pauseAgentRow, pausedAgents, resumeAgentRow } from '../db/queries/agents.js';
import { recordEvent } from '../db/queries/events.js';
import type { FlowPorts } from './ports.js';

/**
 * A hard budget cap was hit: the agent stops. Its requests are refused with
 * `budget_paused` until an authorised person presses Resume. Only the call
 * that actually paused it alerts the team.
 */
export async function pauseAgent(
  ports: Pick<FlowPorts, 'db' | 'flags' | 'scheduler'> & Partial<Pick<FlowPorts, 'metrics'>>,
  agentId: string,
  reason: string,
  cause: { escalationId?: string; executionId?: string },
): Promise<boolean> {
  const paused = await ports.db.transaction(async (tx) => {
    const changed = await pauseAgentRow(tx, agentId, reason);
    if (changed) {
      await recordEvent(tx, { escalationId: cause.escalationId ?? null, executionId: cause.executionId ?? null, type: 'agent_paused', actor: 'system', data: { agentId, reason } });
    }
    return changed;
  });
  await ports.flags.setPaused(agentId, reason);
  if (paused) ports.metrics?.budgetPaused(agentId);
  if (paused) await ports.scheduler.enqueueAlert({ kind: 'agent_paused', agentId, reason }, `paused:${agentId}:${Date.now()}`);
  return paused;
}

export type ResumeOutcome = 'resumed' | 'not_paused' | 'refused';

/** Who may resume: the policy's admins and the agent's own admins. */
export async function mayAdminister(ports: Pick<FlowPorts, 'config' | 'slack'>, agentId: string, userId: string): Promise<boolean> {
  const { policy } = ports.config.current().config;
  const groups: People[] = [policy?.admins ?? { users: [] }, policy?.agents.find((a) => a.id === agentId)?.admins ?? { users: [] }];
  for (const g of groups) {
    const members = g.usergroup ? await ports.slack.usergroupMembers(g.usergroup) : [];
    if (authorize({ userId, kind: 'deny', approvers: g, usergroupMembers: members, agentOwner: '' }).allowed) return true;
  }
  return false;
}

export async function resumeAgent(
  ports: Pick<FlowPorts, 'db' | 'flags' | 'config' | 'slack'>,
  agentId: string,
  userId: string,
): Promise<ResumeOutcome> {
  if (!(await mayAdminister(ports, agentId, userId))) {
    await recordEvent(ports.db, { type: 'agent_resume_refused', actor: userId, data: { agentId } });
    return 'refused';
  }
  const resumed = await ports.db.transaction(async (tx) => {
    const changed = await resumeAgentRow(tx, agentId, userId);
    if (changed) await recordEvent(tx, { type: 'agent_resumed', actor: userId, data: { agentId } });
    return changed;
  });
  if (resumed) await ports.flags.setPaused(agentId, null);
  return resumed ? 'resumed' : 'not_paused';
}

/** Postgres is the truth; Redis's pause flags are rebuilt from it at start. */
export async function syncPauseFlags(ports: Pick<FlowPorts, 'db' | 'flags'>): Promise<number> {
  const rows = await pausedAgents(ports.db);
  for (const r of rows) await ports.flags.setPaused(r.agentId, r.reason);
  return rows.length;
}
