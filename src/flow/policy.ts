import { budgetWindows, crossedThresholds, orgProjectionAlertMicros, toMicros, toUsd, type BudgetWindow } from '../domain/budget.js';
import type { Escalation } from '../domain/escalation.js';
import { actionSpendUsd, evaluatePolicy, type PolicyDecision, type PolicyRequest } from '../domain/policy/evaluate.js';
import type { FlowPorts } from './ports.js';
import type { EventInput } from '../db/queries/events.js';
import { applyMode } from './modes.js';
import type { Mode } from '../domain/modes.js';
import { usdMicros } from '../domain/format.js';

export type VerdictCode = 'policy_allowed' | 'policy_denied' | 'budget_paused' | 'needs_approval' | 'standing_approved';

/** A later request covered by a standing approval (src/flow/standing.ts): which one, whose, and how much of it is used. */
export interface StandingUse {
  id: string;
  grantedBy: string;
  /** This request's use: 1 for the first, up to `maxCount`. */
  useNumber: number;
  maxCount: number;
  spentMicros: number;
  maxSpendMicros: number | null;
  expiresAt: Date;
  /** "amountUsd ≤ 400, currency = "USD"": plain text (agent keys). */
  scope: string;
}

export interface Verdict {
  /** `approved`: a standing approval covered it (`standing` says which). */
  status: 'allowed' | 'denied' | 'pending' | 'approved';
  code: VerdictCode;
  decision: PolicyDecision;
  /** Human-readable: the tier's reason, a deny rule's reason, or the pause. */
  reason: string;
  /** The action's own spend, reserved against budgets (micro-dollars; 0 if none). */
  spendMicros: number;
  /** Budget windows crossed an alert level with this spend. */
  alerts: BudgetAlert[];
  /** Set when this request hit a hard cap and paused its agent. */
  pause?: { window: BudgetWindow; currentMicros: number };
  /** The human-in-the-loop mode that applied (src/domain/modes.ts); null when none did (paused, no policy, denied). */
  mode: Mode | null;
  standing?: StandingUse;
  /** Recorded with the escalation, before its `received` (a standing approval's `standing_used`). */
  events?: EventInput[];
}

export interface BudgetAlert {
  window: BudgetWindow;
  level: number;
  totalMicros: number;
  /** `cap` levels are fractions of a cap; `projection` is the org's 120% of projected spend. */
  basis: 'cap' | 'projection';
}

/** Caps that refuse (and pause) rather than escalate. The per-task cap escalates instead. */
export const HARD_WINDOWS: ReadonlySet<string> = new Set(['day', 'week', 'month']);

export const stepOf = (e: Pick<Escalation, 'action'> & { step?: string }) => e.step ?? e.action.type;

export function alertsFor(
  policy: ReturnType<FlowPorts['config']['current']>['config']['policy'],
  windows: BudgetWindow[],
  totals: number[],
  amount: number,
): BudgetAlert[] {
  const thresholds = policy?.alertThresholds ?? [0.8, 1];
  const alerts: BudgetAlert[] = [];
  windows.forEach((w, i) => {
    // A task past its cap is escalated, not alerted on: alerts are for agent and org budgets.
    if (w.kind === 'task') return;
    const after = totals[i] ?? 0;
    const before = after - amount;
    for (const level of crossedThresholds(before, after, w.capMicros, thresholds)) alerts.push({ window: w, level, totalMicros: after, basis: 'cap' });
    const projection = w.kind === 'month' ? orgProjectionAlertMicros(policy) : undefined;
    if (projection !== undefined && before < projection && after >= projection) {
      alerts.push({ window: w, level: 1.2, totalMicros: after, basis: 'projection' });
    }
  });
  return alerts;
}

/**
 * Step 2: the policy decides. Reads the agent's pause flag, failure streak
 * and task spend (one Redis round trip), evaluates the rules, and for an
 * allowed action reserves its spend atomically against every cap.
 */
/** The action's own spend in micro-dollars (its `spendParam`), 0 if none. */
export function spendOf(policy: ReturnType<FlowPorts['config']['current']>['config']['policy'], e: Escalation): number {
  return toMicros(actionSpendUsd(policy, e.agent.id, e.action.type, e.action.params));
}

/** One Slack alert per crossed level; the dedupe key makes each fire once per window. */
export async function enqueueBudgetAlerts(scheduler: FlowPorts['scheduler'], agentId: string, alerts: readonly BudgetAlert[]): Promise<void> {
  for (const a of alerts) {
    await scheduler.enqueueAlert(
      {
        kind: 'budget_threshold',
        agentId: a.window.kind === 'month' ? null : agentId,
        window: a.window.kind,
        windowKey: a.window.key,
        level: a.level,
        basis: a.basis,
        totalMicros: a.totalMicros,
        capMicros: a.window.capMicros ?? null,
      },
      `budget:${a.window.key}:${a.basis}:${a.level}`,
    );
  }
}

/** What the policy's rules see of a request. */
export const policyRequestOf = (e: Escalation): PolicyRequest => ({
  agentId: e.agent.id,
  actionType: e.action.type,
  params: e.action.params,
  issueType: e.issueType,
  confidence: e.confidence,
  conflictingInformation: e.conflictingInformation,
});

/** What the policy reads from Redis for a request; intake starts it early, beside its own work. */
export const readFlagsFor = (flags: FlowPorts['flags'], e: Escalation) => flags.read(e.agent.id, e.executionId, stepOf(e), e.action.type);

/**
 * `spendMicros`: the action's own spend, from `spendOf` (the caller already has it);
 * `flagsRead`: `readFlagsFor` already on its way, if the caller started it;
 * `beforeReserve`: awaited before any spend is reserved (intake's look-up for a
 * repeated id, which throws to stop here; see intake.ts).
 */
export async function applyPolicy(
  ports: Pick<FlowPorts, 'config' | 'budgets' | 'flags' | 'now' | 'db' | 'scheduler'>,
  e: Escalation,
  spendMicros = spendOf(ports.config.current().config.policy, e),
  flagsRead = readFlagsFor(ports.flags, e),
  beforeReserve?: () => Promise<void>,
): Promise<Verdict> {
  const { policy } = ports.config.current().config;
  const flags = await flagsRead;
  const windows = budgetWindows(policy, { agentId: e.agent.id, executionId: e.executionId }, ports.now());
  const base = { spendMicros: 0, alerts: [] as BudgetAlert[], mode: null };
  if (flags.paused) {
    const decision: PolicyDecision = { outcome: 'deny', tier: null, rule: 'budget', reason: flags.paused, triggers: [] };
    return { ...base, status: 'denied', code: 'budget_paused', decision, reason: `agent paused: ${flags.paused}` };
  }
  const taskCap = windows[0]!.capMicros;
  // The agent's own running total, or what the bot has counted for the task: the larger.
  const taskMicros = Math.max(toMicros(e.cost.usd), flags.taskMicros);
  const evaluated = evaluatePolicy(
    policy,
    policyRequestOf(e),
    { stepFailures: flags.stepFailures, taskBudget: taskCap === undefined ? undefined : { spentUsd: toUsd(taskMicros), capUsd: toUsd(taskCap) } },
  );
  if (evaluated.outcome === 'deny' || !policy) {
    const code = evaluated.outcome === 'deny' ? 'policy_denied' : 'needs_approval';
    return { ...base, status: evaluated.outcome === 'deny' ? 'denied' : 'pending', code, decision: evaluated, reason: evaluated.reason };
  }
  // The agent's review mode, combined with the tier: the stricter wins.
  const { decision, mode } = await applyMode(ports, policy, e, evaluated, flags);
  const modeBase = { ...base, mode: mode.mode };
  if (decision.outcome === 'pending') return { ...modeBase, status: 'pending', code: 'needs_approval', decision, reason: decision.reason };

  const amount = spendMicros;
  if (amount === 0) return { ...modeBase, status: 'allowed', code: 'policy_allowed', decision, reason: decision.reason };
  await beforeReserve?.();
  const reserved = await reserveSpend(ports, e, amount, windows);
  if (!reserved.ok) {
    return { ...modeBase, status: 'denied', code: 'budget_paused', decision: { ...decision, outcome: 'deny', rule: 'budget', reason: reserved.reason }, reason: reserved.reason, pause: reserved.pause };
  }
  return { status: 'allowed', code: 'policy_allowed', decision, reason: decision.reason, spendMicros: amount, alerts: reserved.alerts, mode: mode.mode };
}

export type Reservation = { ok: true; alerts: BudgetAlert[] } | { ok: false; reason: string; pause: NonNullable<Verdict['pause']> };

/**
 * The budget path of an action about to run: its spend reserved atomically
 * against every cap (idempotent per escalation id, so a retry counts it once).
 * A hard cap it would pass refuses it, and the caller pauses the agent.
 */
export async function reserveSpend(
  ports: Pick<FlowPorts, 'config' | 'budgets' | 'now'>,
  e: Escalation,
  amount: number,
  windows = budgetWindows(ports.config.current().config.policy, { agentId: e.agent.id, executionId: e.executionId }, ports.now()),
): Promise<Reservation> {
  const { policy } = ports.config.current().config;
  const reserved = await ports.budgets.reserve(e.id, windows, amount, HARD_WINDOWS);
  if (!reserved.ok) {
    const w = reserved.window;
    const reason = `${w.kind === 'month' ? 'organisation monthly' : `${w.kind === 'day' ? 'daily' : 'weekly'}`} budget of ${usdMicros(w.capMicros ?? 0)} would be exceeded (${usdMicros(reserved.currentMicros)} spent, ${usdMicros(amount)} requested)`;
    return { ok: false, reason, pause: { window: w, currentMicros: reserved.currentMicros } };
  }
  return { ok: true, alerts: reserved.replay ? [] : alertsFor(policy, windows, reserved.totals, amount) };
}
