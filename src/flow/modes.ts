import type { Escalation } from '../domain/escalation.js';
import { combine, inAuditSample, resolveMode, type Mode, type ModeSource, type StoredModes } from '../domain/modes.js';
import { matches, type PolicyDecision } from '../domain/policy/evaluate.js';
import type { Policy } from '../domain/policy/schema.js';
import { latestOwner, recordCapability, storedModes, writeMode } from '../db/queries/agent-modes.js';
import { recordEvent } from '../db/queries/events.js';
import type { AgentFlags } from '../queue/agent-flags.js';
import type { FlowPorts } from './ports.js';

type Cached = Awaited<ReturnType<AgentFlags['read']>>;
type Ports = Pick<FlowPorts, 'db' | 'flags' | 'scheduler'>;

/** `rev|json` as cached by AgentFlags. */
function parseCached(raw: string): StoredModes | undefined {
  const bar = raw.indexOf('|');
  try {
    return bar > 0 ? (JSON.parse(raw.slice(bar + 1)) as StoredModes) : undefined;
  } catch {
    return undefined;
  }
}

/** The agent's stored modes: from the Redis cache (no extra round trip), else Postgres, then cached. */
export async function loadStoredModes(ports: Pick<FlowPorts, 'db' | 'flags'>, agentId: string, cached: string | null): Promise<StoredModes> {
  const hit = cached === null ? undefined : parseCached(cached);
  if (hit) return hit;
  const { rev, modes } = await storedModes(ports.db, agentId);
  await ports.flags.cacheModes(agentId, rev, JSON.stringify(modes));
  return modes;
}

/** After a change committed: the cache moves to the new revision (an older write never overwrites it). */
export async function refreshModeCache(ports: Pick<FlowPorts, 'db' | 'flags'>, agentId: string): Promise<StoredModes> {
  const { rev, modes } = await storedModes(ports.db, agentId);
  await ports.flags.cacheModes(agentId, rev, JSON.stringify(modes));
  return modes;
}

/** Enqueues the demotion notice (team channel, and the owner by DM); once per change. */
export async function noticeDemotion(
  ports: Pick<FlowPorts, 'db' | 'scheduler'>,
  d: { agentId: string; scope: string; from: Mode; to: Mode; reason: string; rev: number },
): Promise<void> {
  const ownerId = (await latestOwner(ports.db, d.agentId)) ?? null;
  await ports.scheduler.enqueueAlert(
    { kind: 'mode_demoted', agentId: d.agentId, scope: d.scope, from: d.from, to: d.to, reason: d.reason, ownerId },
    `mode-demoted:${d.agentId}:${d.scope}:${d.rev}`,
  );
}

/**
 * A capability the agent never used before. The first sighting is recorded
 * (with the agent's history backfilled, old capabilities are not new). When
 * a person had granted the agent a looser mode on evidence, that evidence
 * never covered this action: it starts again in pre-action review, with a
 * notice. Modes written in the config are the operator's own statement and
 * are changed by editing the config (list the new action under `modes`).
 */
async function newCapability(ports: Ports, e: Escalation, stored: StoredModes): Promise<StoredModes> {
  const agentId = e.agent.id;
  const action = e.action.type;
  const granted = stored['*'];
  const tighten = granted !== undefined && granted !== 'pre_action' && stored[action] === undefined;
  const reason = `new capability: ${action} was never seen for this agent`;
  const demoted = await ports.db.transaction(async (tx) => {
    // A concurrent first sighting waits here until the other one commits (unique conflict), demotion included.
    if (!(await recordCapability(tx, agentId, action, e.id))) return 'seen' as const;
    if (!tighten) return undefined;
    const row = await writeMode(tx, { agentId, scope: action, mode: 'pre_action', expect: null, resetEvidence: true, reason, by: 'system' });
    if (!row) return undefined;
    await recordEvent(tx, {
      escalationId: e.id,
      executionId: e.executionId,
      type: 'mode_demoted',
      actor: 'system',
      data: { agentId, scope: action, from: granted, to: 'pre_action', reason, cause: 'new_capability' },
    });
    return row;
  });
  if (demoted === 'seen') {
    // Someone else saw it first, and may just have demoted it: Postgres says which mode applies.
    await ports.flags.markCapability(agentId, action);
    return tighten ? (await storedModes(ports.db, agentId)).modes : stored;
  }
  if (!demoted) {
    await ports.flags.markCapability(agentId, action);
    return stored;
  }
  // The cache moves to the demoted mode before the capability is marked known, so no request in between runs under the old mode.
  const modes = await refreshModeCache(ports, agentId);
  await ports.flags.markCapability(agentId, action);
  await noticeDemotion(ports, { agentId, scope: action, from: granted!, to: 'pre_action', reason, rev: demoted.rev });
  return modes;
}

/**
 * The mode in force for this action, combined with the policy's decision
 * (src/domain/modes.ts has the table). Costs no extra round trip once the
 * agent's modes and this capability are cached in Redis.
 */
export async function applyMode(
  ports: Ports,
  policy: Policy,
  e: Escalation,
  decision: PolicyDecision,
  cached: Cached,
): Promise<{ decision: PolicyDecision; mode: ModeSource }> {
  const index = policy.agents.findIndex((a) => a.id === e.agent.id);
  let stored = await loadStoredModes(ports, e.agent.id, cached.modes);
  if (!cached.knownCapability) stored = await newCapability(ports, e, stored);
  const mode = resolveMode(index, policy.agents[index], stored, e.action.type, matches);
  const sampled = mode.mode === 'post_action' && inAuditSample(e.id, policy.promotion.auditSampleRate);
  return { decision: combine(decision, mode, sampled).decision, mode };
}
