import { and, asc, eq, gt, lt } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { oncallOverrides, type OncallOverrideRow } from '../schema/oncall-overrides.js';

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

/** A route's overrides overlapping [from, until), oldest start first. */
export async function overridesBetween(db: DbOrTx, route: string, from: Date, until: Date): Promise<OncallOverrideRow[]> {
  return db
    .select()
    .from(oncallOverrides)
    .where(and(eq(oncallOverrides.route, route), gt(oncallOverrides.endsAt, from), lt(oncallOverrides.startsAt, until)))
    .orderBy(asc(oncallOverrides.startsAt));
}
