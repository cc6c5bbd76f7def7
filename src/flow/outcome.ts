import { budgetWindows, toMicros } from '../domain/budget.js';
import { describeErrors, fieldErrors, requiredMessage, type FieldError } from '../domain/validation.js';
import { outcomeSchema } from '../domain/outcome.js';
import { recordEvent } from '../db/queries/events.js';
import { insertOutcome } from '../db/queries/outcomes.js';
import { recordSpend } from '../db/queries/spend.js';
import { pauseAgent } from './pause.js';
import { HARD_WINDOWS, alertsFor, enqueueBudgetAlerts } from './policy.js';
import type { FlowPorts } from './ports.js';
import { redactorOf } from '../domain/audit-config.js';
import { usdMicros } from '../domain/format.js';

export type OutcomeResult =
  | { kind: 'recorded'; stepFailures: number; paused: boolean }
  | { kind: 'duplicate' }
  | { kind: 'rejected'; errors: FieldError[]; message: string };

/**
 * An agent reports what happened after it acted: success or failure, output
 * and this step's cost. The record completes the audit trail, the cost counts
 * against every budget, and failures feed the repeated-failure trigger.
 */
export async function reportOutcome(
  ports: Pick<FlowPorts, 'db' | 'config' | 'budgets' | 'flags' | 'scheduler' | 'now'>,
  data: unknown,
): Promise<OutcomeResult> {
  const parsed = outcomeSchema.safeParse(data, { error: requiredMessage });
  if (!parsed.success) {
    // Messages can quote the report's keys (an email as a key): masked before they are stored, as for escalations.
    const redactor = redactorOf(ports.config.current().config.audit);
    const errors = redactor.value(fieldErrors(parsed.error).slice(0, 20));
    await recordEvent(ports.db, { type: 'rejected', actor: 'system', data: { queue: 'outcomes', errors } });
    return { kind: 'rejected', errors, message: describeErrors(errors) };
  }
  // The agent's output and error text are stored and shown: PII masked first.
  const redactor = redactorOf(ports.config.current().config.audit);
  const o = { ...parsed.data, output: parsed.data.output === undefined ? undefined : redactor.text(parsed.data.output), error: parsed.data.error === undefined ? undefined : redactor.text(parsed.data.error) };
  const step = o.step ?? o.actionType;
  const micros = toMicros(o.cost.usd);
  // One instant for the ledger row and the budget windows it counts in.
  const now = ports.now();
  const inserted = await ports.db.transaction(async (tx) => {
    const row = await insertOutcome(tx, {
      id: o.id,
      escalationId: o.escalationId ?? null,
      executionId: o.executionId,
      agentId: o.agentId,
      actionType: o.actionType,
      step,
      success: o.success,
      output: o.output ?? null,
      error: o.error ?? null,
      costTokens: o.cost.tokens,
      costUsdMicros: micros,
    });
    if (!row) return false;
    await recordSpend(tx, { agentId: o.agentId, executionId: o.executionId, escalationId: o.escalationId, outcomeId: o.id, kind: 'cost', usdMicros: micros, at: now });
    await recordEvent(tx, {
      escalationId: o.escalationId ?? null,
      executionId: o.executionId,
      type: 'outcome_reported',
      actor: `agent:${o.agentId}`,
      data: { outcomeId: o.id, actionType: o.actionType, step, success: o.success, output: o.output ?? null, error: o.error ?? null, costUsd: o.cost.usd, tokens: o.cost.tokens },
    });
    return true;
  });
  if (!inserted) return { kind: 'duplicate' };

  const stepFailures = await ports.flags.recordStep(o.agentId, o.executionId, step, o.success);
  const { policy } = ports.config.current().config;
  const windows = budgetWindows(policy, { agentId: o.agentId, executionId: o.executionId }, now);
  // Already spent: counted unconditionally (no cap enforced), idempotent per report id.
  const added = await ports.budgets.reserve(`outcome:${o.id}`, windows, micros, new Set());
  let paused = false;
  if (added.ok && !added.replay && micros > 0) {
    await enqueueBudgetAlerts(ports.scheduler, o.agentId, alertsFor(policy, windows, added.totals, micros));
    const over = windows.findIndex((w, i) => HARD_WINDOWS.has(w.kind) && w.capMicros !== undefined && (added.totals[i] ?? 0) >= w.capMicros);
    if (over >= 0) {
      const w = windows[over]!;
      paused = await pauseAgent(ports, o.agentId, `${w.kind} budget of ${usdMicros(w.capMicros!)} reached`, { escalationId: o.escalationId, executionId: o.executionId });
    }
  }
  return { kind: 'recorded', stepFailures, paused };
}
