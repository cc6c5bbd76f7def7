import { MODE_LABELS, looserMode, modeRank, tighterMode, type Mode } from './modes.js';
import { count, percent, plural } from './format.js';

/**
 * An agent's (or one action type's) record over a window: every action, and
 * those that went wrong. The one definition of "error rate" (promotion,
 * demotion, `/countersign agent`, App Home, the monthly report), counted by
 * `recordRows` in `db/queries/agent-record.ts`:
 * - an action is an escalation that was allowed, approved or denied (not
 *   expired, not refused for a budget pause), plus each outcome report not
 *   tied to an escalation;
 * - it is an error when it was denied, reversed in supervised review, judged
 *   incorrect in batch review, or its outcome failed, counted once however
 *   many of these apply;
 * - the error rate is errors ÷ actions (0 with no actions).
 */
export interface RecordCounts {
  actions: number;
  errors: number;
}

/** Entry bar of a looser mode (the seed's transition plan). */
export interface ModeBar {
  /** Successful actions (actions − errors) needed, at least. */
  minSuccesses: number;
  /** The error rate must stay strictly below this fraction; exactly at it does not qualify. */
  maxErrorRate: number;
  /** In this mode, an error rate at or above this fraction demotes the agent one step. */
  demoteAtErrorRate: number;
}

export interface PromotionThresholds {
  post_action: ModeBar;
  exception_only: ModeBar;
  /** Demotion by error rate waits for this many actions in the current mode (small samples are noise). */
  demoteMinActions: number;
}

/** The seed: 100 successful actions under 2% errors → post-action; 1,000 under 1% → exception-only. */
export const DEFAULT_THRESHOLDS: PromotionThresholds = {
  post_action: { minSuccesses: 100, maxErrorRate: 0.02, demoteAtErrorRate: 0.02 },
  exception_only: { minSuccesses: 1000, maxErrorRate: 0.01, demoteAtErrorRate: 0.01 },
  demoteMinActions: 50,
};

export const successesOf = (r: RecordCounts) => Math.max(0, r.actions - r.errors);
export const errorRateOf = (r: RecordCounts) => (r.actions === 0 ? 0 : r.errors / r.actions);

/** Rates compared in millionths, in integers: 3 errors in 150 is exactly 2%, not 2.0000000001%. */
const PPM = 1_000_000;
const rateBelow = (r: RecordCounts, max: number) => r.errors * PPM < Math.round(max * PPM) * r.actions;
const rateAtLeast = (r: RecordCounts, min: number) => r.actions > 0 && !rateBelow(r, min);

/** Does this record meet a mode's entry bar? Exactly at the error-rate bar does not. */
export function meetsBar(r: RecordCounts, bar: ModeBar): boolean {
  return r.actions > 0 && successesOf(r) >= bar.minSuccesses && rateBelow(r, bar.maxErrorRate);
}

/**
 * The mode to propose, one step looser than `current`, when the record meets
 * its bar; never looser than `ceiling` (an action's mode never exceeds its
 * agent's). Countersign only proposes: a person accepts.
 */
export function promotionTarget(current: Mode, r: RecordCounts, t: PromotionThresholds, ceiling: Mode = 'exception_only'): Mode | undefined {
  const next = looserMode(current);
  if (!next || next === 'pre_action') return undefined;
  if (modeRank(next) > modeRank(ceiling)) return undefined;
  return meetsBar(r, t[next]) ? next : undefined;
}

/** One step stricter when the error rate in the current mode reached its demotion bar. */
export function demotionTarget(current: Mode, r: RecordCounts, t: PromotionThresholds): Mode | undefined {
  if (current === 'pre_action' || r.actions < t.demoteMinActions) return undefined;
  return rateAtLeast(r, t[current].demoteAtErrorRate) ? tighterMode(current) : undefined;
}


/** The bars in words, as users see them (`/countersign agent`, the proposal card, docs/review-modes.md). */
export function describeThresholds(t: PromotionThresholds): string[] {
  return (['post_action', 'exception_only'] as const).map(
    (m) =>
      `${MODE_LABELS[m]}: ${count(t[m].minSuccesses)} successful actions with an error rate under ${percent(t[m].maxErrorRate)}; back one step at ${percent(t[m].demoteAtErrorRate)} or more (after ${plural(t.demoteMinActions, 'action')})`,
  );
}

export const formatRate = (r: RecordCounts) => percent(errorRateOf(r));

/** The rate with its counts, wherever a record is shown: "62.5% (5 errors in 8 actions)". */
export const errorRateText = (r: RecordCounts) => `${formatRate(r)} (${plural(r.errors, 'error')} in ${plural(r.actions, 'action')})`;
