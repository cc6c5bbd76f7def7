import { DateTime } from 'luxon';
import { percent, usd, usdMicros } from './format.js';
import { errorRateText } from './promotion.js';
import { safeCode } from './slack-text.js';

/**
 * The monthly governance review's proposals: simple, documented heuristics
 * over one month of figures. Proposals only: Countersign never changes a
 * threshold by itself; people edit the config.
 */

/** Below this many cases a rate says little: no proposal. */
export const MIN_EVIDENCE = 20;
/** An error rate at or above this (5%) proposes tightening. */
export const TIGHTEN_ERROR_RATE = 0.05;
/** People approved at least this share (95%) of low-confidence escalations: the threshold may be too strict. */
export const LOOSEN_CONFIDENCE_APPROVAL = 0.95;
/** People approved at least this share (98%) of a restricted rule's escalations: its limit may be too low. */
export const LOOSEN_RULE_APPROVAL = 0.98;
/** Step for a proposed confidence threshold change. */
export const CONFIDENCE_STEP = 0.05;
/** Peak day at or above 90% of the daily cap: raise it or look at the spend. */
export const BUDGET_HIGH = 0.9;
/** Peak day under 25% of the daily cap: the cap is loose; propose twice the peak. */
export const BUDGET_LOW = 0.25;
/** p90 time to decision past half the default deadline: people decide close to the fail-safe. */
export const SLOW_DECISION_SHARE = 0.5;

export interface ProposalInput {
  agentId: string;
  actions: number;
  errors: number;
  byTrigger: Record<string, { count: number; approved: number }>;
  byRule: Record<string, { count: number; approved: number }>;
  peakDayMicros: number;
  p90Sec: number | null;
  /** The agent's effective confidence threshold (policy or agent override). */
  confidenceThreshold: number;
  dailyCapUsd?: number;
  deadlineMinutes: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function proposeThresholdChanges(i: ProposalInput): string[] {
  const out: string[] = [];
  const rate = i.actions > 0 ? i.errors / i.actions : 0;
  if (i.actions >= MIN_EVIDENCE && rate >= TIGHTEN_ERROR_RATE) {
    out.push(
      `Tighten: error rate ${errorRateText(i)} is at or above ${percent(TIGHTEN_ERROR_RATE)}; raise confidenceThreshold to ${Math.min(1, round2(i.confidenceThreshold + CONFIDENCE_STEP)).toFixed(2)} or move the agent to a stricter mode.`,
    );
  }
  const low = i.byTrigger.low_confidence;
  if (rate < TIGHTEN_ERROR_RATE && low && low.count >= MIN_EVIDENCE && low.approved / low.count >= LOOSEN_CONFIDENCE_APPROVAL) {
    out.push(
      `Loosen: people approved ${low.approved} of ${low.count} low-confidence escalations (${percent(low.approved / low.count)}); consider confidenceThreshold ${Math.max(0, round2(i.confidenceThreshold - CONFIDENCE_STEP)).toFixed(2)} (now ${i.confidenceThreshold.toFixed(2)}).`,
    );
  }
  for (const [rule, r] of Object.entries(i.byRule).sort(([a], [b]) => a.localeCompare(b))) {
    if (rate < TIGHTEN_ERROR_RATE && r.count >= MIN_EVIDENCE && r.approved / r.count >= LOOSEN_RULE_APPROVAL) {
      out.push(`Review rule ${safeCode(rule, 200)}: people approved ${r.approved} of ${r.count} (${percent(r.approved / r.count)}); its limit may be lower than it needs to be.`);
    }
  }
  if (i.dailyCapUsd !== undefined && i.dailyCapUsd > 0 && i.peakDayMicros > 0) {
    const share = i.peakDayMicros / (i.dailyCapUsd * 1e6);
    if (share >= BUDGET_HIGH) out.push(`Budget: the peak day spent ${usdMicros(i.peakDayMicros)}, ${percent(share)} of the ${usd(i.dailyCapUsd)} daily cap; raise dailyUsd or look at why.`);
    else if (share < BUDGET_LOW) out.push(`Budget: the peak day spent ${usdMicros(i.peakDayMicros)}, ${percent(share)} of the ${usd(i.dailyCapUsd)} daily cap; consider dailyUsd ${usdMicros(2 * i.peakDayMicros)} (twice the peak).`);
  }
  if (i.p90Sec !== null && i.p90Sec > SLOW_DECISION_SHARE * i.deadlineMinutes * 60) {
    out.push(`Decisions: p90 time to decision ${Math.round(i.p90Sec / 60)} min is past half the ${i.deadlineMinutes}-minute deadline; add approvers or an on-call rotation.`);
  }
  return out;
}

/** The calendar month before `at` in `tz`, as [from, to) instants and a label like "2026-10". */
export function previousMonth(at: Date, tz: string): { from: Date; to: Date; label: string } {
  const start = DateTime.fromJSDate(at, { zone: tz }).startOf('month');
  const prev = start.minus({ months: 1 });
  return { from: prev.toJSDate(), to: start.toJSDate(), label: prev.toFormat('yyyy-MM') };
}

/** A report month as written by people and jobs: "2026-10". */
export const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * The instant whose previous month is `month` ("2026-10") in `tz`: 00:00 on the
 * 1st of the month after. Undefined when `month` is not a real YYYY-MM.
 */
export function reportInstantFor(month: string, tz: string): Date | undefined {
  if (!MONTH_PATTERN.test(month)) return undefined;
  const start = DateTime.fromFormat(month, 'yyyy-MM', { zone: tz });
  return start.isValid ? start.plus({ months: 1 }).toJSDate() : undefined;
}
