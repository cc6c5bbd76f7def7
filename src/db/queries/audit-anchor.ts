import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import type { Anchor } from '../../domain/audit-anchor.js';

/** postgres.js answers raw queries with an array, PGlite with `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** The last sealed link (or, right after a prune took every link, the checkpoint) and how many links there are. */
export async function chainHead(db: Db): Promise<Anchor | undefined> {
  const rows = rowsOf<{ id: string; hash: string; count: number }>(
    await db.execute(sql`select h.n::text as id, h.hash, (select count(*)::int from audit_chain) as count from (
        (select event_id as n, hash from audit_chain order by event_id desc limit 1)
        union all (select pruned_up_to_event_id, hash from audit_checkpoints order by id desc limit 1)
      ) h order by h.n desc limit 1`),
  );
  const r = rows[0];
  return r ? { eventId: Number(r.id), hash: r.hash, count: r.count } : undefined;
}

/** The last anchor this installation recorded: when, and at which event. */
export async function lastAnchor(db: Db): Promise<{ at: Date; eventId: number } | undefined> {
  const rows = rowsOf<{ at: string | Date; event_id: string | null }>(
    await db.execute(sql`select coalesce((data->>'anchoredAt')::timestamptz, at) as at, data->>'eventId' as event_id from events where type = 'audit_anchored' order by id desc limit 1`),
  );
  const r = rows[0];
  return r ? { at: new Date(r.at), eventId: Number(r.event_id ?? 0) } : undefined;
}

export interface PruneResult {
  prunedUpTo: number;
  hash: string;
  events: number;
}

/**
 * Retention through the one audited path (countersign_prune_audit, SECURITY
 * DEFINER): up to `maxEvents` sealed events older than `cutoff` go in one
 * transaction, with a checkpoint and an `audit_pruned` event. Undefined when
 * there was nothing (more) to prune.
 */
export async function pruneAudit(db: Db, cutoff: Date, actor: string, maxEvents = 100_000): Promise<PruneResult | undefined> {
  const rows = rowsOf<{ pruned_up_to: string; hash: string; events_deleted: string }>(
    await db.execute(sql`select * from countersign_prune_audit(${cutoff.toISOString()}::timestamptz, ${actor}, ${maxEvents}::int)`),
  );
  const r = rows[0];
  return r ? { prunedUpTo: Number(r.pruned_up_to), hash: r.hash, events: Number(r.events_deleted) } : undefined;
}
