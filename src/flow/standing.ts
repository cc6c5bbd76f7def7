import type { Route } from '../domain/config.js';
import type { Escalation } from '../domain/escalation.js';
import { usdMicros } from '../domain/format.js';
import { describeBounds, standingCovers, standingEligible, standingPermission, type StandingRequest } from '../domain/standing.js';
import { candidatesCached, liveCandidates, releaseStandingUse, standingCandidates, type Candidates, type StandingCandidate } from '../db/queries/standing.js';
import { evaluatePolicy } from '../domain/policy/evaluate.js';
import type { EventInput } from '../db/queries/events.js';
import { claimStandingUseGrouped } from '../db/queries/standing-claim-batch.js';
import type { FlowPorts } from './ports.js';
import { policyRequestOf, reserveSpend, type StandingUse, type Verdict } from './policy.js';

/** "standing approval 1f2e… granted by U0APPROVER1 (amountUsd ≤ 400; use 3 of 10)": the decision's reason, for the agent and the audit. */
export function standingReason(u: StandingUse): string {
  const spend = u.maxSpendMicros === null ? '' : `, ${usdMicros(u.spentMicros)} of ${usdMicros(u.maxSpendMicros)}`;
  return `standing approval ${u.id} granted by ${u.grantedBy} (${u.scope}; use ${u.useNumber} of ${u.maxCount}${spend}; until ${u.expiresAt.toISOString()})`;
}

const useOf = (s: StandingCandidate, useNumber: number, spentMicros: number): StandingUse => ({
  id: s.id,
  grantedBy: s.grantedBy,
  useNumber,
  maxCount: s.maxCount,
  spentMicros,
  maxSpendMicros: s.maxSpendMicros,
  expiresAt: s.expiresAt,
  scope: describeBounds(s.bounds),
});

type Claimed = { use: StandingUse; fresh: boolean; event: EventInput };
type ClaimContext = { route: Route; digest: string; spendMicros: number };

/** A use claimed before the policy's verdict was known (startStandingClaim), still on its way. */
export type EarlyClaim = Promise<Claimed | undefined>;

/**
 * Step 2b started beside the policy's own reads, so that its round trip
 * overlaps theirs instead of following them: only for a request that the
 * policy asks a person about even before its Redis facts are in (those only
 * make a verdict stricter: a pause, a failure streak, a task past its budget,
 * a review mode) and that a standing approval this process read lately may
 * cover. Nothing else is claimed early: an autonomous action never reaches
 * Postgres here. A use claimed for a request that the verdict then does not
 * leave to a standing approval is given back before intake goes on
 * (applyStanding, releaseEarlyClaim): meanwhile it only holds one use, so a
 * concurrent request at the count limit may go to a person; none is ever
 * approved past a limit, which the claim's guard checks as before.
 */
export function startStandingClaim(ports: Pick<FlowPorts, 'db' | 'config'>, e: Escalation, ctx: ClaimContext, now: Date): EarlyClaim | undefined {
  if (!candidatesCached(ports.db, e.agent.id, e.action.type)) return undefined;
  const { policy } = ports.config.current().config;
  if (!standingPermission(policy, e.agent.id, e.action.type, e.action.reversible).allowed) return undefined;
  const likely = evaluatePolicy(policy, policyRequestOf(e), { stepFailures: 0 });
  if (!standingEligible({ ...likely, approvals: likely.quorum?.approvals })) return undefined;
  const claim = claimFrom(ports, e, liveCandidates(ports.db, { agentId: e.agent.id, actionType: e.action.type, now }), ctx, now);
  // Awaited by applyStanding or releaseEarlyClaim; until then its failure is nobody's to report.
  claim.catch(() => {});
  return claim;
}

/** An early claim that the verdict did not need (or that intake stopped before using): its use given back. */
export async function releaseEarlyClaim(ports: Pick<FlowPorts, 'db'>, e: Escalation, early: EarlyClaim | undefined): Promise<void> {
  // A failed claim holds nothing to give back; a use held since an earlier try (not fresh) stays that try's.
  const claimed = await early?.catch(() => undefined);
  if (claimed?.fresh) await releaseStandingUse(ports.db, e.id);
}

/** An older read's candidates first; if none of them is claimed, the fresh read's (a grant made since). */
async function claimFrom(ports: Pick<FlowPorts, 'db' | 'config'>, e: Escalation, candidates: Candidates, ctx: ClaimContext, now: Date): Promise<Claimed | undefined> {
  return (await claimOne(ports, e, await candidates.rows, ctx, now)) ?? (candidates.fresh && (await claimOne(ports, e, await candidates.fresh, ctx, now)));
}

/**
 * Step 2b, after the policy: a request that waits only for its restricted
 * tier, and that an active standing approval covers, is approved at once in
 * its grantor's name. Runs only for a pending verdict, so an autonomous action
 * never reaches Postgres here. Then the normal budget path: the request counts
 * against every cap, and a hard cap still refuses it (its use is given back).
 *
 * A use is claimed with a guarded UPDATE, recorded per escalation id: a
 * retried intake (a crash after the claim) finds its own use and counts
 * nothing twice; concurrent requests never pass the count or spend limit.
 * `early`: the claim startStandingClaim already made for this request.
 */
export async function applyStanding(
  ports: Pick<FlowPorts, 'db' | 'config' | 'budgets' | 'now'>,
  e: Escalation,
  verdict: Verdict,
  ctx: ClaimContext & { beforeReserve?: () => Promise<void> },
  early?: EarlyClaim,
): Promise<Verdict> {
  const { policy } = ports.config.current().config;
  const wanted =
    verdict.status === 'pending' &&
    standingEligible({ ...verdict.decision, approvals: verdict.decision.quorum?.approvals }) &&
    standingPermission(policy, e.agent.id, e.action.type, e.action.reversible).allowed;
  if (!wanted) {
    await releaseEarlyClaim(ports, e, early);
    return verdict;
  }
  const now = ports.now();
  const claimed = await (early ?? claimFrom(ports, e, liveCandidates(ports.db, { agentId: e.agent.id, actionType: e.action.type, now }), ctx, now));
  if (!claimed) return verdict;
  const { use, fresh, event } = claimed;
  // Stopped before its spend is reserved (intake found the id taken): a use this call claimed is given back.
  await ctx.beforeReserve?.().catch(async (err: unknown) => {
    if (fresh) await releaseStandingUse(ports.db, e.id);
    throw err;
  });

  const base = { ...verdict, standing: use, decision: { ...verdict.decision } };
  if (ctx.spendMicros > 0) {
    const reserved = await reserveSpend(ports, e, ctx.spendMicros);
    if (!reserved.ok) {
      // Refused by a hard cap: it never runs, so the use is given back, and the agent pauses as for any action.
      await releaseStandingUse(ports.db, e.id);
      const { standing: _none, ...rest } = base;
      return { ...rest, status: 'denied', code: 'budget_paused', decision: { ...verdict.decision, outcome: 'deny', rule: 'budget', reason: reserved.reason }, reason: reserved.reason, pause: reserved.pause };
    }
    return { ...base, status: 'approved', code: 'standing_approved', reason: standingReason(use), spendMicros: ctx.spendMicros, alerts: reserved.alerts, events: [event] };
  }
  return { ...base, status: 'approved', code: 'standing_approved', reason: standingReason(use), events: [event] };
}

async function claimOne(
  ports: Pick<FlowPorts, 'db' | 'config'>,
  e: Escalation,
  candidates: StandingCandidate[],
  ctx: ClaimContext,
  now: Date,
  retried = false,
): Promise<Claimed | undefined> {
  // A retry of this same request keeps the use it already holds; another request reusing the id gets none.
  const held = candidates.find((c) => c.prior !== null);
  if (held) return held.prior!.digest === ctx.digest ? { use: useOf(held, held.prior!.useNumber, held.spentMicros), fresh: false, event: usedEvent(e, held, ctx) } : undefined;
  const req: StandingRequest = {
    agentId: e.agent.id,
    actionType: e.action.type,
    route: ctx.route.name,
    routeApprovers: ctx.route.approvers,
    owner: e.agent.owner,
    params: e.action.params,
    spendMicros: ctx.spendMicros,
    now,
  };
  for (const c of candidates) {
    if (!standingCovers(c, req)) continue;
    const claimed = await claimStandingUseGrouped(ports.db, { standingId: c.id, escalationId: e.id, digest: ctx.digest, spendMicros: ctx.spendMicros, now });
    if (claimed.kind === 'claimed') return { use: useOf(c, claimed.useNumber, claimed.spentMicros), fresh: true, event: usedEvent(e, c, ctx) };
    if (claimed.kind === 'duplicate' && !retried) {
      // The same request, claimed concurrently: read back the use it holds.
      const again = await standingCandidates(ports.db, { agentId: e.agent.id, actionType: e.action.type, escalationId: e.id, now });
      return claimOne(ports, e, again, ctx, now, true);
    }
    // Used up, revoked or expired since it was read: try the next one.
  }
  return undefined;
}

/** The use's record, committed with the escalation it approves (its number rides in the `received` event and the use's row). */
const usedEvent = (e: Escalation, c: StandingCandidate, ctx: { digest: string; spendMicros: number }): EventInput => ({
  escalationId: e.id,
  executionId: e.executionId,
  type: 'standing_used',
  actor: `standing:${c.id}`,
  data: { standingId: c.id, grantedBy: c.grantedBy, createdFrom: c.createdFrom, digest: ctx.digest, spendUsd: ctx.spendMicros / 1e6, maxCount: c.maxCount },
});
