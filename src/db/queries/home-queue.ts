import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow } from '../schema/escalations.js';

/**
 * One page of the pending escalations on these routes, for `user`'s App
 * Home: the first to expire first, then the oldest, so the most urgent are
 * on the first page however many wait (a burst's digest can hold hundreds).
 * Leaves out the agents `user` owns (an owner never approves their own
 * agent's actions). `total`: how many there are on every page.
 */
export async function pendingPage(db: DbOrTx, routes: string[], user: string, offset: number, limit: number): Promise<{ rows: EscalationRow[]; total: number }> {
  if (routes.length === 0) return { rows: [], total: 0 };
  const where = and(
    eq(escalations.status, 'pending'),
    inArray(escalations.route, routes),
    sql`${escalations.agentOwner} is distinct from ${user}`,
    sql`${escalations.request} is not null`,
  );
  const [rows, counted] = await Promise.all([
    db
      .select()
      .from(escalations)
      .where(where)
      .orderBy(sql`${escalations.deadline} asc nulls last`, asc(escalations.createdAt), asc(escalations.id))
      .offset(offset)
      .limit(limit),
    db.select({ n: sql<number>`count(*)::int` }).from(escalations).where(where),
  ]);
  return { rows, total: Number(counted[0]?.n ?? 0) };
}
