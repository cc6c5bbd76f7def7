import type { CountersignConfig, Route } from '../domain/config.js';
import { nowAndNext, pagingOrderAt, type Candidate, type Shift } from '../domain/schedule/oncall.js';
import type { Override, Schedule } from '../domain/schedule/schema.js';
import { insertOverride, overridesBetween } from '../db/queries/oncall-overrides.js';
import type { OncallOverrideRow } from '../db/schema/oncall-overrides.js';
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
 * Overrides read per route are kept this long in this process (ms), so that
 * cards do not each cost a query; an override made here clears it at once,
 * one made on another replica shows within this time.
 */
const OVERRIDE_CACHE_MS = 2_000;
const overrideCache = new WeakMap<object, Map<string, { at: number; rows: OncallOverrideRow[] }>>();

async function slackOverrides(db: FlowPorts['db'], route: string, at: Date): Promise<OncallOverrideRow[]> {
  let perDb = overrideCache.get(db);
  if (!perDb) overrideCache.set(db, (perDb = new Map()));
  const t = Date.now();
  const near = Math.abs(at.getTime() - t) < OVERRIDE_CACHE_MS;
  const hit = perDb.get(route);
  // Only instants near now use the cache: the rows read then cover [then - 2 s, then + horizon).
  if (near && hit && t - hit.at < OVERRIDE_CACHE_MS) return hit.rows;
  const from = new Date(Math.min(at.getTime(), t) - OVERRIDE_CACHE_MS);
  const rows = await overridesBetween(db, route, from, new Date(Math.max(at.getTime(), t) + OVERRIDE_HORIZON_MS));
  if (near) perDb.set(route, { at: t, rows });
  return rows;
}

/** Who is on call for a route at `at`: the config's schedules plus the overrides stored in Postgres. */
export async function onCallFor(ports: Pick<FlowPorts, 'db' | 'config'>, route: Route, at: Date): Promise<RouteOnCall> {
  const { config } = ports.config.current();
  const rows = await slackOverrides(ports.db, route.name, at);
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
  return {
    route: route.name,
    at,
    scheduled: schedules.length > 0,
    candidates,
    primary: candidates[0],
    secondary: candidates[1],
    next: first ? nowAndNext(first, at).next : undefined,
  };
}

/**
 * Records an override made in Slack and its audit event, in one transaction:
 * `userId` is on call for the route from `from` for `durationMs`.
 */
export async function createOverride(
  ports: Pick<FlowPorts, 'db'>,
  o: { route: Route; userId: string; from: Date; durationMs: number; by: string; reason?: string },
): Promise<{ id: string; from: Date; to: Date }> {
  const to = new Date(o.from.getTime() + o.durationMs);
  const made = await ports.db.transaction(async (tx) => {
    const row = await insertOverride(tx, { route: o.route.name, userId: o.userId, startsAt: o.from, endsAt: to, createdBy: o.by, reason: o.reason ?? null });
    await recordEvent(tx, {
      type: 'oncall_override',
      actor: o.by,
      data: { id: row.id, route: o.route.name, user: o.userId, from: o.from.toISOString(), to: to.toISOString(), reason: o.reason ?? null },
    });
    return { id: row.id, from: o.from, to };
  });
  overrideCache.get(ports.db)?.delete(o.route.name);
  return made;
}
