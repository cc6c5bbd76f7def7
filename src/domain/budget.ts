import { DateTime } from 'luxon';
import type { Policy } from './policy/schema.js';

/** Money is counted in integer micro-dollars: no float drift, and "not one cent over" is exact. */
export const MICROS_PER_USD = 1_000_000;
export const toMicros = (usd: number) => Math.round(usd * MICROS_PER_USD);
export const toUsd = (micros: number) => micros / MICROS_PER_USD;

export type WindowKind = 'task' | 'day' | 'week' | 'month';

export interface BudgetWindow {
  kind: WindowKind;
  /** Stable name of the window, e.g. `agent:support-agent:day:2026-11-25`. */
  key: string;
  /** Cap in micro-dollars; undefined when the policy sets none. */
  capMicros?: number;
  /** Seconds to keep the counter after the window closes, for reports and rebuilds. */
  ttlSec: number;
  /** Window bounds, for rebuilding the counter from the ledger. */
  from: Date;
  to: Date;
}

export interface BudgetScope {
  agentId: string;
  executionId: string;
}

/**
 * The four windows a spend counts against: the task (execution id), the
 * agent's calendar day and ISO week, and the organisation's month, all in the
 * policy's time zone.
 */
/**
 * The day, ISO week and month containing `now` in `zone`. Days nest in weeks
 * and months, so the answer holds until the day ends: kept per zone for that
 * day (luxon's zone arithmetic would otherwise run on every request).
 */
interface Calendar {
  day: { key: string; from: number; to: number };
  week: { key: string; from: number; to: number };
  month: { key: string; from: number; to: number };
}
const calendars = new Map<string, Calendar>();
function calendarOf(zone: string, now: Date): Calendar {
  const at = now.getTime();
  const c = calendars.get(zone);
  if (c && at >= c.day.from && at < c.day.to) return c;
  const t = DateTime.fromJSDate(now, { zone });
  const day = t.startOf('day');
  const week = t.startOf('week');
  const month = t.startOf('month');
  const fresh: Calendar = {
    day: { key: day.toISODate()!, from: day.toMillis(), to: day.plus({ days: 1 }).toMillis() },
    week: { key: week.toISODate()!, from: week.toMillis(), to: week.plus({ weeks: 1 }).toMillis() },
    month: { key: month.toFormat('yyyy-MM'), from: month.toMillis(), to: month.plus({ months: 1 }).toMillis() },
  };
  if (calendars.size > 100) calendars.clear();
  calendars.set(zone, fresh);
  return fresh;
}

export function budgetWindows(policy: Policy | undefined, scope: BudgetScope, now: Date): BudgetWindow[] {
  const zone = policy?.timezone ?? 'UTC';
  const { day, week, month } = calendarOf(zone, now);
  const agent = policy?.agents.find((a) => a.id === scope.agentId);
  const caps = agent?.budgets ?? {};
  const org = policy?.organization ?? {};
  const micros = (usd: number | undefined) => (usd === undefined ? undefined : toMicros(usd));
  return [
    {
      kind: 'task',
      key: `task:${scope.agentId}:${scope.executionId}`,
      capMicros: micros(caps.perTaskUsd),
      ttlSec: 30 * 86_400,
      from: new Date(0),
      to: new Date(8.64e15),
    },
    {
      kind: 'day',
      key: `agent:${scope.agentId}:day:${day.key}`,
      capMicros: micros(caps.dailyUsd),
      ttlSec: 8 * 86_400,
      from: new Date(day.from),
      to: new Date(day.to),
    },
    {
      kind: 'week',
      key: `agent:${scope.agentId}:week:${week.key}`,
      capMicros: micros(caps.weeklyUsd),
      ttlSec: 15 * 86_400,
      from: new Date(week.from),
      to: new Date(week.to),
    },
    {
      kind: 'month',
      key: `org:month:${month.key}`,
      capMicros: micros(org.monthlyUsd),
      ttlSec: 40 * 86_400,
      from: new Date(month.from),
      to: new Date(month.to),
    },
  ];
}

/**
 * Alert levels crossed by moving from `before` to `after` (micro-dollars),
 * e.g. 0.8 and 1.0 of the cap. Each fires once per window.
 */
export function crossedThresholds(before: number, after: number, capMicros: number | undefined, thresholds: readonly number[]): number[] {
  if (!capMicros || capMicros <= 0) return [];
  return thresholds.filter((t) => before < t * capMicros && after >= t * capMicros);
}

/** The seed's organisation safety net: alert at 120% of projected monthly spend (micro-dollars). */
export function orgProjectionAlertMicros(policy: Policy | undefined): number | undefined {
  const p = policy?.organization.projectedMonthlyUsd;
  return p === undefined ? undefined : toMicros(p * 1.2);
}
