import type { CountersignConfig, Route } from '../domain/config.js';
import { nextBoundary, nowAndNext, pagingOrderAt, type Candidate, type Shift } from '../domain/schedule/oncall.js';
import type { Override, Schedule } from '../domain/schedule/schema.js';
import { forgetOverridesInFlight, insertOverride, overridesBetweenShared } from '../db/queries/oncall-overrides.js';
import { recordEvent } from '../db/queries/events.js';
import type { FlowPorts } from './ports.js';

/** Overrides made in Slack are read this far ahead, so "next" sees them (ms). */
const OVERRIDE_HORIZON_MS = 30 * 24 * 3_600_000;

export interface RouteOnCall {
  route: string;
  at: Date;
  /** The route names schedules, or has overrides made in Slack. */
  scheduled: boolean;
  /** Paging order at `at`: primary first, then the secondary and the rest. Empty: a gap. */
  candidates: Candidate[];
  primary: Candidate | undefined;
  secondary: Candidate | undefined;
  /** When the primary changes next, and to whom (undefined shift: a gap starts). */
  next: { at: Date; shift: Shift | undefined } | undefined;
}

/**
 * The route's schedules from the config, with the overrides made in Slack
 * laid over the first one (the primary's). Without schedules, the overrides
 * alone make an overrides-only schedule.
 */
export function routeSchedules(config: CountersignConfig, route: Route, slackOverrides: readonly Override[]): Schedule[] {
  const schedules: Schedule[] = route.schedules.map((name) => {
    const { ical: _ical, ...s } = config.schedules[name]!;
    return { name, ...s };
  });
  if (slackOverrides.length === 0) return schedules;
  const [first, ...rest] = schedules;
  if (!first) return [{ name: `${route.name}-overrides`, layers: [], overrides: [...slackOverrides] }];
  return [{ ...first, overrides: [...first.overrides, ...slackOverrides] }, ...rest];
}

/**
 * The schedule math is kept per route in this process, keyed by the config
 * and the overrides read (the query runs every time, so an override shows
 * at once from any replica), and reused until the next instant the answer
 * may change (a handoff, a layer's hours, an override's edge), at most this
 * long (ms): cards then cost one indexed query, not the luxon arithmetic.
 */
const REUSE_MAX_MS = 3_600_000;
interface CacheEntry {
  config: object;
  overrides: string;
  from: number;
  until: number;
  result: RouteOnCall;
}
const oncallCache = new WeakMap<object, Map<string, CacheEntry>>();

/** Who is on call for a route at `at`: the config's schedules plus the overrides stored in Postgres. */
export async function onCallFor(ports: Pick<FlowPorts, 'db' | 'config'>, route: Route, at: Date): Promise<RouteOnCall> {
  const { config } = ports.config.current();
  const t = at.getTime();
  const rows = await overridesBetweenShared(ports.db, route.name, at, new Date(t + OVERRIDE_HORIZON_MS));
  const fingerprint = rows.map((r) => `${r.id}:${r.endsAt.getTime()}`).join(',');
  let perDb = oncallCache.get(ports.db);
  if (!perDb) oncallCache.set(ports.db, (perDb = new Map()));
  const hit = perDb.get(route.name);
  if (hit && hit.config === config && hit.overrides === fingerprint && t >= hit.from && t < hit.until) return { ...hit.result, at };
  const overrides: Override[] = rows.map((r) => ({
    user: r.userId,
    from: r.startsAt.toISOString(),
    to: r.endsAt.toISOString(),
    ...(r.covers ? { covers: r.covers } : {}),
    reason: r.reason ?? `override by ${r.createdBy}`,
  }));
  const schedules = routeSchedules(config, route, overrides);
  const candidates = pagingOrderAt(schedules, at);
  const first = schedules[0];
  const result: RouteOnCall = {
    route: route.name,
    at,
    scheduled: schedules.length > 0,
    candidates,
    primary: candidates[0],
    secondary: candidates[1],
    next: first ? nowAndNext(first, at).next : undefined,
  };
  const until = Math.min(t + REUSE_MAX_MS, ...schedules.map((s) => nextBoundary(s, at).getTime()));
  if (perDb.size > 1000) perDb.clear();
  if (until > t) perDb.set(route.name, { config, overrides: fingerprint, from: t, until, result });
  return result;
}

/**
 * Records an override made in Slack and its audit event, in one transaction:
 * `userId` is on call for the route from `from` for `durationMs`; with
 * `covers`, only in that person's place (while they would be on call).
 */
export async function createOverride(
  ports: Pick<FlowPorts, 'db'>,
  o: { route: Route; userId: string; from: Date; durationMs: number; by: string; reason?: string; covers?: string },
): Promise<{ id: string; from: Date; to: Date }> {
  const to = new Date(o.from.getTime() + o.durationMs);
  const created = await ports.db.transaction(async (tx) => {
    const row = await insertOverride(tx, { route: o.route.name, userId: o.userId, covers: o.covers ?? null, startsAt: o.from, endsAt: to, createdBy: o.by, reason: o.reason ?? null });
    await recordEvent(tx, {
      type: 'oncall_override',
      actor: o.by,
      data: { id: row.id, route: o.route.name, user: o.userId, covers: o.covers ?? null, from: o.from.toISOString(), to: to.toISOString(), reason: o.reason ?? null },
    });
    return { id: row.id, from: o.from, to };
  });
  // A lookup already in flight began before this commit: later cards must not share it.
  forgetOverridesInFlight(ports.db, o.route.name);
  return created;
}
