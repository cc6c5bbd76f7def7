import { z } from 'zod';
import { budgetWindows, toUsd } from '../domain/budget.js';
import type { CountersignConfig } from '../domain/config.js';
import { actionSchema } from '../domain/escalation.js';
import { evaluatePolicy, matches, type PolicyDecision } from '../domain/policy/evaluate.js';
import { combine, resolveMode, type StoredModes } from '../domain/modes.js';
import { fieldErrors, requiredMessage } from '../domain/validation.js';
import { InvalidInputError } from '../errors.js';

/**
 * What `policy check` takes: a whole escalation, or just the parts policy
 * reads. Lets people test a policy change before deploying it.
 */
export const policyProbeSchema = z.object({
  agent: z.object({ id: z.string().min(1) }).loose(),
  action: actionSchema.partial({ reversible: true }),
  issueType: z.string().min(1).optional(),
  confidence: z.number().min(0).max(1).default(1),
  conflictingInformation: z.boolean().default(false),
  /** Facts the bot would know from its records; default: none. */
  stepFailures: z.number().int().min(0).default(0),
  taskSpentUsd: z.number().min(0).optional(),
});

/**
 * Throws InvalidInputError naming each bad field when `input` is not a probe.
 * `stored`: the agent's modes from `agent_modes` when the caller can read
 * them (Slack); the CLI sees the config's modes only, and says so.
 */
export function checkPolicy(
  config: CountersignConfig,
  input: unknown,
  now = new Date(),
  stored?: StoredModes,
): { decision: PolicyDecision; text: string } {
  const parsed = policyProbeSchema.safeParse(input, { error: requiredMessage });
  if (!parsed.success) throw new InvalidInputError(fieldErrors(parsed.error));
  const p = parsed.data;
  const windows = budgetWindows(config.policy, { agentId: p.agent.id, executionId: 'policy-check' }, now);
  const cap = windows[0]!.capMicros;
  const evaluated = evaluatePolicy(
    config.policy,
    { agentId: p.agent.id, actionType: p.action.type, params: p.action.params, issueType: p.issueType, confidence: p.confidence, conflictingInformation: p.conflictingInformation },
    { stepFailures: p.stepFailures, taskBudget: cap !== undefined && p.taskSpentUsd !== undefined ? { spentUsd: p.taskSpentUsd, capUsd: toUsd(cap) } : undefined },
  );
  // The agent's review mode, as at intake (an autonomous action under post-action audit counts as not sampled).
  const index = config.policy?.agents.findIndex((a) => a.id === p.agent.id) ?? -1;
  const mode = config.policy && evaluated.outcome !== 'deny' ? resolveMode(index, config.policy.agents[index], stored ?? {}, p.action.type, matches) : undefined;
  const decision = mode ? combine(evaluated, mode, false).decision : evaluated;
  const lines = [
    `outcome: ${decision.outcome}`,
    ...(mode ? [`mode:    ${mode.mode} (${mode.source}${stored ? '' : '; promotions stored in Countersign are not seen here'})`] : []),
    `tier:    ${decision.tier ?? '—'}`,
    `rule:    ${decision.rule}`,
    `reason:  ${decision.reason}`,
    ...decision.triggers.map((t) => `trigger: ${t.kind}: ${t.message}`),
    ...(decision.quorum
      ? [`quorum:  ${decision.quorum.approvals} approvals from different approvers${decision.quorum.groups.length ? `, each from a different group of ${decision.quorum.groups.join(', ')}` : ''} (${decision.quorum.rule})`]
      : []),
  ];
  return { decision, text: lines.join('\n') };
}
