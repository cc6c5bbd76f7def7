import { describeCondition, holds, matchesGlob } from './conditions.js';
import { stricter, type ActionPolicy, type AgentPolicy, type Policy, type Tier } from './schema.js';
import { plural, usd } from '../format.js';
import { isQuorum, stricterQuorum, SINGLE_APPROVAL, type QuorumRule } from '../quorum.js';

export type TriggerKind = 'low_confidence' | 'out_of_domain' | 'high_stakes' | 'conflicting_information' | 'repeated_failure' | 'task_budget';

export interface Trigger {
  kind: TriggerKind;
  /** Shown on the card as the reason, e.g. "confidence 0.62 is below 0.70". */
  message: string;
}

export type PolicyOutcome = 'allow' | 'deny' | 'pending';

export interface PolicyDecision {
  outcome: PolicyOutcome;
  /** The tier after parameter rules; null when denied before a tier applied. */
  tier: Tier | null;
  /** Where in the config the deciding rule sits, e.g. `policy.agents[0].actions[2].rules[1]`. */
  rule: string;
  /** Why, in words: the tier's reason, or the deny reason. */
  reason: string;
  triggers: Trigger[];
  /** Set when a person's approval is not enough: M approvers, perhaps from distinct groups, and the rule asking it. */
  quorum?: QuorumRule & { rule: string };
}

/** What policy needs to know of a request. */
export interface PolicyRequest {
  agentId: string;
  actionType: string;
  params: Record<string, unknown>;
  /** Undefined (a policy check without one): the issue-type domain check is skipped. */
  issueType?: string;
  confidence: number;
  conflictingInformation?: boolean;
}

/** Facts only the bot's own records can tell, never the agent's word. */
export interface PolicyContext {
  /** Failed attempts of this same step, from outcome reports. */
  stepFailures: number;
  /** Set when the task's spend is past its per-task cap. */
  taskBudget?: { spentUsd: number; capUsd: number };
}

/** Exact action type, or a glob over it. */
export const matches = (pattern: string, actionType: string) => matchesGlob(pattern, actionType);

/** Exact entries first, then globs in file order: the most specific entry governs. */
export function findAction(agent: AgentPolicy): (actionType: string) => [ActionPolicy, number] | undefined {
  return (actionType) => {
    const exact = agent.actions.findIndex((a) => a.action === actionType);
    if (exact >= 0) return [agent.actions[exact]!, exact];
    const glob = agent.actions.findIndex((a) => matches(a.action, actionType));
    return glob >= 0 ? [agent.actions[glob]!, glob] : undefined;
  };
}

const deny = (rule: string, reason: string): PolicyDecision => ({ outcome: 'deny', tier: null, rule, reason, triggers: [] });

/** No `policy` section: nothing runs on its own, every action waits for a person. */
export const NO_POLICY: PolicyDecision = {
  outcome: 'pending',
  tier: 'restricted',
  rule: 'policy (absent)',
  reason: 'no policy is configured, so every action needs approval',
  triggers: [],
};

/**
 * Decides an action: allowed on its own (autonomous, supervised), refused,
 * or pending a human. Pure: budgets and failure counts come in `ctx`.
 */
export function evaluatePolicy(policy: Policy | undefined, req: PolicyRequest, ctx: PolicyContext): PolicyDecision {
  if (!policy) return NO_POLICY;
  const ai = policy.agents.findIndex((a) => a.id === req.agentId);
  if (ai < 0) return deny('policy.agents', `agent ${req.agentId} has no policy, and anything not listed is denied`);
  const agent = policy.agents[ai]!;
  const at = `policy.agents[${ai}]`;

  for (const [di, d] of agent.deny.entries()) {
    if (matches(d.action, req.actionType) && (!d.when || holds(d.when, req.params))) return deny(`${at}.deny[${di}]`, d.reason);
  }
  const found = findAction(agent)(req.actionType);
  if (!found) return deny(`${at}.actions`, `${req.actionType} is not among ${req.agentId}'s allowed actions`);
  const [action, xi] = found;

  let tier: Tier = action.tier;
  let rule = `${at}.actions[${xi}]`;
  let reason = `${req.actionType} is ${tier}`;
  let quorum = { ...quorumOf(action), rule };
  for (const [ri, r] of action.rules.entries()) {
    if (!holds(r.when, req.params)) continue;
    const here = `${at}.actions[${xi}].rules[${ri}]`;
    if (r.deny) return deny(here, r.reason);
    // A rule asking for approvals asks for a person: `approvals` alone implies restricted.
    const ruleTier = r.tier ?? (r.approvals !== undefined ? 'restricted' : undefined);
    if (ruleTier && stricter(tier, ruleTier) !== tier) {
      tier = ruleTier;
      rule = here;
      reason = `${r.reason}: ${tier}`;
    }
    const asked = quorumOf(r);
    if (stricterQuorum(quorum, asked) !== quorum) quorum = { ...asked, rule: here };
  }

  const triggers: Trigger[] = [];
  const threshold = action.confidenceThreshold ?? agent.confidenceThreshold ?? policy.confidenceThreshold;
  if (req.confidence < threshold) {
    triggers.push({ kind: 'low_confidence', message: `confidence ${req.confidence.toFixed(2)} is below ${threshold.toFixed(2)}` });
  }
  if (agent.domain) {
    const { issueTypes, actionTypes } = agent.domain;
    if (req.issueType !== undefined && issueTypes.length > 0 && !issueTypes.includes(req.issueType)) {
      triggers.push({ kind: 'out_of_domain', message: `issue type ${req.issueType} is outside ${req.agentId}'s domain` });
    }
    if (actionTypes.length > 0 && !actionTypes.some((p) => matches(p, req.actionType))) {
      triggers.push({ kind: 'out_of_domain', message: `action ${req.actionType} is outside ${req.agentId}'s domain` });
    }
  }
  if (action.highStakes && holds(action.highStakes, req.params)) {
    triggers.push({ kind: 'high_stakes', message: `high stakes: ${describeCondition(action.highStakes)}` });
  }
  if (req.conflictingInformation) {
    triggers.push({ kind: 'conflicting_information', message: 'the agent flagged conflicting information' });
  }
  if (ctx.stepFailures >= policy.repeatedFailureThreshold) {
    triggers.push({ kind: 'repeated_failure', message: `this step already failed ${plural(ctx.stepFailures, 'time')} without success` });
  }
  if (ctx.taskBudget && ctx.taskBudget.spentUsd > ctx.taskBudget.capUsd) {
    triggers.push({
      kind: 'task_budget',
      message: `task spend ${usd(ctx.taskBudget.spentUsd)} is past its ${usd(ctx.taskBudget.capUsd)} cap`,
    });
  }
  const outcome: PolicyOutcome = tier === 'restricted' || triggers.length > 0 ? 'pending' : 'allow';
  // Whenever people decide it (a tier, a trigger, or later the agent's review mode), this many must approve.
  return { outcome, tier, rule, reason, triggers, ...(isQuorum(quorum) ? { quorum } : {}) };
}

function quorumOf(x: { approvals?: number; distinctGroups?: string[] }): QuorumRule {
  return x.approvals === undefined && x.distinctGroups === undefined ? SINGLE_APPROVAL : { approvals: x.approvals ?? 1, groups: x.distinctGroups ?? [] };
}

/** The action's own spend (a purchase, a refund) in USD, from its `spendParam`. */
export function actionSpendUsd(policy: Policy | undefined, agentId: string, actionType: string, params: Record<string, unknown>): number {
  const agent = policy?.agents.find((a) => a.id === agentId);
  const action = agent && findAction(agent)(actionType)?.[0];
  if (!action?.spendParam) return 0;
  const v = params[action.spendParam];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : 0;
}
