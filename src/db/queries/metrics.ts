import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { rowsOf } from './agent-modes.js';

/** Escalations per status and policy tier (tier null: recorded before policy, e.g. rejected input). One grouped count. */
export async function escalationCounts(db: Db): Promise<Array<{ status: string; tier: string | null; count: number }>> {
  const rows = rowsOf<{ status: string; tier: string | null; n: string | number }>(
    await db.execute(sql`select status, tier, count(*) as n from escalations group by status, tier`),
  );
  return rows.map((r) => ({ status: r.status, tier: r.tier, count: Number(r.n) }));
}

/**
 * Age of the oldest event the audit sealer has not linked into the chain yet
 * (s, by the database's clock), 0 when every event is sealed. Events past the
 * last link (or the last retention checkpoint): a range scan of the primary key.
 * The sealer leaves events younger than its lag (5 s) on purpose, so a healthy
 * value stays under about 6 s.
 */
export async function unsealedAgeSeconds(db: Db): Promise<number> {
  const rows = rowsOf<{ age: string | number | null }>(
    await db.execute(sql`select extract(epoch from now() - min(e.at)) as age from events e
      where e.id > greatest(coalesce((select max(event_id) from audit_chain), 0), coalesce((select max(pruned_up_to_event_id) from audit_checkpoints), 0))`),
  );
  return Math.max(0, Number(rows[0]?.age ?? 0));
}
