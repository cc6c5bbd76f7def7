import { z } from 'zod';
import { budgetWindows, toUsd } from '../domain/budget.js';
import type { CountersignConfig } from '../domain/config.js';
import { actionSchema } from '../domain/escalation.js';
import { evaluatePolicy, type PolicyDecision } from '../domain/policy/evaluate.js';

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

export function checkPolicy(config: CountersignConfig, input: unknown, now = new Date()): { decision: PolicyDecision; text: string } {
  const p = policyProbeSchema.parse(input);
  const windows = budgetWindows(config.policy, { agentId: p.agent.id, executionId: 'policy-check' }, now);
  const cap = windows[0]!.capMicros;
  const decision = evaluatePolicy(
    config.policy,
    { agentId: p.agent.id, actionType: p.action.type, params: p.action.params, issueType: p.issueType, confidence: p.confidence, conflictingInformation: p.conflictingInformation },
    { stepFailures: p.stepFailures, taskBudget: cap !== undefined && p.taskSpentUsd !== undefined ? { spentUsd: p.taskSpentUsd, capUsd: toUsd(cap) } : undefined },
  );
  const lines = [
    `outcome: ${decision.outcome}`,
    `tier:    ${decision.tier ?? '—'}`,
    `rule:    ${decision.rule}`,
    `reason:  ${decision.reason}`,
    ...decision.triggers.map((t) => `trigger: ${t.kind}: ${t.message}`),
  ];
  return { decision, text: lines.join('\n') };
}
