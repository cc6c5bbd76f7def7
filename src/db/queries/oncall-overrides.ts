import { and, asc, eq, gt, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { oncallOverrides, type OncallOverrideRow } from '../schema/oncall-overrides.js';
import { sharedReads } from './shared-read.js';

export interface NewOverride {
  route: string;
  userId: string;
  covers?: string | null;
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  reason?: string | null;
}

export async function insertOverride(db: DbOrTx, o: NewOverride): Promise<OncallOverrideRow> {
  const [row] = await db
    .insert(oncallOverrides)
    .values({ ...o, covers: o.covers ?? null, reason: o.reason ?? null })
    .returning();
  return row!;
}

/** Prepared once per handle: every card asks, so parse and plan are paid once. */
const statements = new WeakMap<object, ReturnType<typeof buildBetween>>();
function buildBetween(db: DbOrTx) {
  return db
    .select()
    .from(oncallOverrides)
    .where(
      and(
        eq(oncallOverrides.route, sql.placeholder('route')),
        gt(oncallOverrides.endsAt, sql`${sql.placeholder('from')}::timestamptz`),
        lt(oncallOverrides.startsAt, sql`${sql.placeholder('until')}::timestamptz`),
      ),
    )
    .orderBy(asc(oncallOverrides.startsAt))
    .prepare('oncall_overrides_between');
}

/** A route's overrides overlapping [from, until), oldest start first. */
export async function overridesBetween(db: DbOrTx, route: string, from: Date, until: Date): Promise<OncallOverrideRow[]> {
  let q = statements.get(db);
  if (!q) statements.set(db, (q = buildBetween(db)));
  return q.execute({ route, from: from.toISOString(), until: until.toISOString() });
}

const shared = sharedReads<OncallOverrideRow[]>();

/**
 * overridesBetween, shared by concurrent callers for one route (shared-read.ts):
 * a burst of cards costs one statement, not one each. Rows past their end by
 * the caller's own instant are the schedule math's to skip.
 */
export function overridesBetweenShared(db: DbOrTx, route: string, from: Date, until: Date): Promise<OncallOverrideRow[]> {
  return shared.read(db, route, () => overridesBetween(db, route, from, until));
}

/** After a write: callers from now on start a statement of their own. */
export function forgetOverridesInFlight(db: DbOrTx, route: string): void {
  shared.forget(db, route);
}
