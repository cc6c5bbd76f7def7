import { randomUUID } from 'node:crypto';
import type { AlertJob } from '../domain/alerts.js';
import { authorize } from '../domain/authz.js';
import { MODE_LABELS, agentMode, type Mode } from '../domain/modes.js';
import type { People, Policy } from '../domain/policy/schema.js';
import { demotionTarget, errorRateText, promotionTarget, type PromotionThresholds, type RecordCounts } from '../domain/promotion.js';
import {
  closeProposal,
  getProposal,
  insertProposal,
  latestOwner,
  proposalsFor,
  storedModeRows,
  supersedeProposals,
  writeMode,
} from '../db/queries/agent-modes.js';
import { agentRecord } from '../db/queries/agent-record.js';
import { recordEvent } from '../db/queries/events.js';
import type { AgentModeRow } from '../db/schema/agent-modes.js';
import type { ModeProposalRow } from '../db/schema/mode-proposals.js';
import { noticeDemotion, refreshModeCache } from './modes.js';
import type { FlowPorts } from './ports.js';
import { count, percent } from '../domain/format.js';

type Ports = Pick<FlowPorts, 'db' | 'config' | 'flags' | 'scheduler'>;


/** The bar a proposal met, in words. */
export function barText(t: PromotionThresholds, to: Mode): string {
  if (to === 'pre_action') return 'none';
  const b = t[to];
  return `${count(b.minSuccesses)} successful actions with an error rate under ${percent(b.maxErrorRate)}`;
}

/** The card's data for a stored proposal (the post and every update render from it). */
export function proposalJob(p: ModeProposalRow, t: PromotionThresholds): Extract<AlertJob, { kind: 'mode_promotion_proposed' }> {
  return {
    kind: 'mode_promotion_proposed',
    agentId: p.agentId,
    proposalId: p.id,
    scope: p.scope,
    from: p.fromMode,
    to: p.toMode,
    actions: p.actions,
    errors: p.errors,
    bar: barText(t, p.toMode),
  };
}

interface Scope {
  agentId: string;
  scope: string;
  mode: Mode;
  /** The stored row, if the mode is stored (else it comes from the config or the default). */
  row: AgentModeRow | undefined;
  /** An action's mode never goes looser than its agent's. */
  ceiling: Mode;
}

/**
 * The periodic check (every minute, and on demand): for every agent of the
 * policy and every action with a mode of its own, demote when the error rate
 * since the mode began reached its bar, else propose a promotion when the
 * record since the last demotion meets the next bar. Never loosens anything.
 */
export async function checkModes(ports: Ports): Promise<{ proposed: number; demoted: number }> {
  const { policy } = ports.config.current().config;
  if (!policy) return { proposed: 0, demoted: 0 };
  const all = await storedModeRows(ports.db);
  let proposed = 0;
  let demoted = 0;
  for (const [i, cfg] of policy.agents.entries()) {
    const rows = all.filter((r) => r.agentId === cfg.id);
    const own = rows.find((r) => r.scope === '*');
    const mode = agentMode(i, cfg, own ? { '*': own.mode } : {}).mode;
    const scopes: Scope[] = [
      { agentId: cfg.id, scope: '*', mode, row: own, ceiling: 'exception_only' },
      ...rows.filter((r) => r.scope !== '*').map((r) => ({ agentId: cfg.id, scope: r.scope, mode: r.mode, row: r, ceiling: mode })),
    ];
    for (const s of scopes) {
      const r = await checkScope(ports, policy, s);
      if (r === 'proposed') proposed++;
      if (r === 'demoted') demoted++;
    }
  }
  return { proposed, demoted };
}

async function checkScope(ports: Ports, policy: Policy, s: Scope): Promise<'proposed' | 'demoted' | 'none'> {
  const t = policy.promotion;
  const actionType = s.scope === '*' ? undefined : s.scope;
  const modeSince = s.row?.since ?? null;
  const evidenceSince = s.row?.evidenceSince ?? null;
  let sinceMode: RecordCounts | undefined;
  if (s.mode !== 'pre_action') {
    const { total } = await agentRecord(ports.db, s.agentId, { since: modeSince, actionType });
    sinceMode = total;
    const to = demotionTarget(s.mode, total, t);
    if (to) {
      const reason = `error rate ${errorRateText(total)} reached the ${percent(t[s.mode as 'post_action' | 'exception_only'].demoteAtErrorRate)} bar of ${MODE_LABELS[s.mode]}`;
      return (await demote(ports, s, to, reason, total)) ? 'demoted' : 'none';
    }
  }
  const pending = (await proposalsFor(ports.db, s.agentId, s.scope)).filter((p) => p.status === 'pending');
  // A card that never went out (crash after the insert) goes out now; the alert's dedupe keeps it to one.
  for (const p of pending) await ports.scheduler.enqueueAlert(proposalJob(p, t), `proposal:${p.id}`);
  if (pending.length > 0) return 'none';
  // One aggregate when both windows start at the same moment (no row, or right after a demotion).
  const total =
    sinceMode && modeSince?.getTime() === evidenceSince?.getTime() ? sinceMode : (await agentRecord(ports.db, s.agentId, { since: evidenceSince, actionType })).total;
  const to = promotionTarget(s.mode, total, t, s.ceiling);
  if (!to) return 'none';
  return (await propose(ports, s, to, total, t)) ? 'proposed' : 'none';
}

async function demote(ports: Ports, s: Scope, to: Mode, reason: string, total: { actions: number; errors: number }): Promise<boolean> {
  const row = await ports.db.transaction(async (tx) => {
    const written = await writeMode(tx, { agentId: s.agentId, scope: s.scope, mode: to, expect: s.row ? s.mode : null, resetEvidence: true, reason, by: 'system' });
    if (!written) return undefined;
    await supersedeProposals(tx, s.agentId, s.scope);
    await recordEvent(tx, {
      type: 'mode_demoted',
      actor: 'system',
      data: { agentId: s.agentId, scope: s.scope, from: s.mode, to, reason, cause: 'error_rate', actions: total.actions, errors: total.errors },
    });
    return written;
  });
  if (!row) return false;
  await refreshModeCache(ports, s.agentId);
  await noticeDemotion(ports, { agentId: s.agentId, scope: s.scope, from: s.mode, to, reason, rev: row.rev });
  return true;
}

async function propose(ports: Ports, s: Scope, to: Mode, total: { actions: number; errors: number }, t: PromotionThresholds): Promise<boolean> {
  // After a decline, ask again only once the record has doubled: no nagging on the same evidence.
  const declined = (await proposalsFor(ports.db, s.agentId, s.scope)).find((p) => p.status === 'declined' && p.toMode === to && p.fromMode === s.mode);
  if (declined && total.actions < 2 * declined.actions) return false;
  const proposal = await ports.db.transaction(async (tx) => {
    const p = await insertProposal(tx, { id: randomUUID(), agentId: s.agentId, scope: s.scope, fromMode: s.mode, toMode: to, actions: total.actions, errors: total.errors });
    if (!p) return undefined;
    await recordEvent(tx, {
      type: 'mode_promotion_proposed',
      actor: 'system',
      data: { proposalId: p.id, agentId: s.agentId, scope: s.scope, from: s.mode, to, actions: total.actions, errors: total.errors, bar: barText(t, to) },
    });
    return p;
  });
  if (!proposal) return false;
  await ports.scheduler.enqueueAlert(proposalJob(proposal, t), `proposal:${proposal.id}`);
  return true;
}

export type ProposalOutcome =
  | { kind: 'made'; proposal: ModeProposalRow }
  | { kind: 'superseded'; proposal: ModeProposalRow }
  | { kind: 'already'; proposal: ModeProposalRow }
  | { kind: 'refused'; reason: 'not_an_approver' | 'owner_cannot_approve' }
  | { kind: 'unknown' };

/**
 * Who may answer a proposal: `policy.promotion.approvers` when set, else the
 * policy's admins and the agent's own admins (those who may resume it). The
 * agent's owner (as its latest request names them) may never accept: nobody
 * grades their own agent. Declining is fail-safe, so any of them may decline.
 */
async function mayAnswer(ports: Pick<FlowPorts, 'db' | 'config' | 'slack'>, agentId: string, userId: string, kind: 'accept' | 'decline') {
  const { policy } = ports.config.current().config;
  const groups: People[] = policy?.promotion.approvers
    ? [policy.promotion.approvers]
    : [policy?.admins ?? { users: [] }, policy?.agents.find((a) => a.id === agentId)?.admins ?? { users: [] }];
  const owner = kind === 'accept' ? ((await latestOwner(ports.db, agentId)) ?? '') : '';
  let reason: 'not_an_approver' | 'owner_cannot_approve' = 'not_an_approver';
  for (const g of groups) {
    const members = g.usergroup ? await ports.slack.usergroupMembers(g.usergroup) : [];
    const r = authorize({ userId, kind: kind === 'accept' ? 'approve' : 'deny', approvers: g, usergroupMembers: members, agentOwner: owner });
    if (r.allowed) return undefined;
    if (r.reason === 'owner_cannot_approve') reason = r.reason;
  }
  return reason;
}

/** Accept or decline on the card: authorised first, then guarded updates with their events in one transaction. */
export async function answerProposal(
  ports: Pick<FlowPorts, 'db' | 'config' | 'slack' | 'flags'>,
  input: { proposalId: string; userId: string; kind: 'accept' | 'decline' },
): Promise<ProposalOutcome> {
  const p = await getProposal(ports.db, input.proposalId);
  if (!p) return { kind: 'unknown' };
  if (p.status !== 'pending') return { kind: 'already', proposal: p };
  const base = { agentId: p.agentId, scope: p.scope, proposalId: p.id, from: p.fromMode, to: p.toMode };
  const refused = await mayAnswer(ports, p.agentId, input.userId, input.kind);
  if (refused) {
    await recordEvent(ports.db, { type: 'mode_promotion_refused', actor: input.userId, data: { ...base, kind: input.kind, reason: refused } });
    return { kind: 'refused', reason: refused };
  }
  if (input.kind === 'decline') {
    const closed = await ports.db.transaction(async (tx) => {
      const row = await closeProposal(tx, p.id, 'declined', input.userId);
      if (row) await recordEvent(tx, { type: 'mode_promotion_declined', actor: input.userId, data: base });
      return row;
    });
    return closed ? { kind: 'made', proposal: closed } : { kind: 'already', proposal: (await getProposal(ports.db, p.id)) ?? p };
  }
  const { policy } = ports.config.current().config;
  const outcome = await ports.db.transaction(async (tx): Promise<ProposalOutcome> => {
    const rows = await storedModeRows(tx, p.agentId);
    const row = rows.find((r) => r.scope === p.scope);
    const index = policy?.agents.findIndex((a) => a.id === p.agentId) ?? -1;
    const current = row?.mode ?? (p.scope === '*' ? agentMode(index, policy?.agents[index], {}).mode : undefined);
    const written =
      current === p.fromMode
        ? await writeMode(tx, { agentId: p.agentId, scope: p.scope, mode: p.toMode, expect: row ? p.fromMode : null, resetEvidence: false, reason: `promotion accepted by ${input.userId}`, by: input.userId })
        : undefined;
    // The mode moved since the proposal (a demotion): it no longer applies.
    const closed = await closeProposal(tx, p.id, written ? 'accepted' : 'superseded', written ? input.userId : 'system');
    if (!closed) return { kind: 'already', proposal: p };
    if (!written) return { kind: 'superseded', proposal: closed };
    await recordEvent(tx, { type: 'mode_promoted', actor: input.userId, data: { ...base, actions: p.actions, errors: p.errors } });
    return { kind: 'made', proposal: closed };
  });
  if (outcome.kind === 'made') await refreshModeCache(ports, p.agentId);
  return outcome;
}
