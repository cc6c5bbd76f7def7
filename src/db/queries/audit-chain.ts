import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { GENESIS, linkHash, type VerifyFinding } from '../../domain/audit-chain.js';

/** postgres.js answers raw queries with an array, PGlite with `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * The canonical text of an event, built by Postgres the same way for sealing and verifying:
 * the sealer (countersign_seal, drizzle/0016_audit_seal_in_postgres.sql) repeats this
 * expression, and the tests seal there and verify here.
 */
const CANONICAL = sql`case when e.id is null then null else json_build_array(e.id::text, e.escalation_id, e.execution_id, e.type, e.actor,
  (extract(epoch from e.at) * 1000000)::bigint::text, e.data)::text end`;

/**
 * Seals events into the chain in id order, a batch at a time, behind the hot
 * path. Only events older than `lagMs` are sealed, so a transaction that took
 * an id but commits late is not skipped over. One statement: Postgres reads,
 * hashes and links the batch under the sealer's lock (countersign_seal), so
 * no event text crosses to the bot and no hashing runs on its event loop.
 */
export async function sealChain(db: Db, opts: { batch?: number; lagMs?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 1000;
  const lag = `${Math.max(0, opts.lagMs ?? 5000)} milliseconds`;
  const rows = rowsOf<{ n: number }>(await db.execute(sql`select countersign_seal(${batch}::int, ${lag}::interval) as n`));
  return Number(rows[0]?.n ?? 0);
}

/**
 * The periodic sealer: batch after batch until caught up or `budgetMs`
 * (default 500) is spent. Batches of 200 keep each statement, and the lock
 * retention also takes, short, so the hot path's Postgres work does not line
 * up behind a large batch once a second.
 */
export async function sealPending(db: Db, budgetMs = 500, batch = 200): Promise<number> {
  const until = Date.now() + budgetMs;
  let total = 0;
  for (;;) {
    const n = await sealChain(db, { batch });
    total += n;
    if (n < batch || Date.now() > until) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The last retention prune: the chain starts from its link hash instead of the genesis. */
export async function lastCheckpoint(db: Db): Promise<{ upTo: number; hash: string; cutoff: Date; at: Date } | undefined> {
  const rows = rowsOf<{ up_to: string; hash: string; cutoff: string | Date; at: string | Date }>(
    await db.execute(sql`select pruned_up_to_event_id::text as up_to, hash, cutoff, at from audit_checkpoints order by id desc limit 1`),
  );
  const r = rows[0];
  return r ? { upTo: Number(r.up_to), hash: r.hash, cutoff: new Date(r.cutoff), at: new Date(r.at) } : undefined;
}

/**
 * Walks the chain from the start (or the last prune's checkpoint) and names
 * the first broken record: an event changed after sealing, an event deleted,
 * or a link that doesn't follow. `collect` names event ids whose recomputed
 * link hashes to hand back (anchors to check against).
 */
export async function verifyChain(
  db: Db,
  opts: { pageSize?: number; collect?: ReadonlySet<number> } = {},
): Promise<VerifyFinding & { collected: Map<number, string> }> {
  const collected = new Map<number, string>();
  const collect = opts.collect ?? new Set<number>();
  const page = opts.pageSize ?? 50_000;
  type Link = { chain_id: string; hash: string; canon: string | null };
  const fetchAfter = async (after: string) =>
    rowsOf<Link>(
      await db.execute(sql`select c.event_id::text as chain_id, c.hash, ${CANONICAL} as canon
        from audit_chain c left join events e on e.id = c.event_id
        where c.event_id > ${after}::bigint order by c.event_id limit ${page}`),
    );
  const checkpoint = await lastCheckpoint(db);
  if (checkpoint) {
    // A real prune deletes every event up to its checkpoint in the same transaction.
    const left = rowsOf<{ id: string }>(await db.execute(sql`select id::text as id from events where id <= ${checkpoint.upTo} order by id limit 1`));
    if (left[0]) return { kind: 'broken', eventId: Number(left[0].id), reason: 'unpruned', checked: 0, collected };
  }
  let prev = checkpoint?.hash ?? GENESIS;
  let after = String(checkpoint?.upTo ?? 0);
  let checked = 0;
  let rows = await fetchAfter(after);
  for (;;) {
    // Fetch the next page while this one is hashed.
    const last = rows.length > 0 ? rows[rows.length - 1]!.chain_id : after;
    const next = rows.length === page ? fetchAfter(last) : undefined;
    next?.catch(() => {}); // awaited below; a return on a broken link must not leave it unhandled
    for (const r of rows) {
      if (r.canon === null) return { kind: 'broken', eventId: Number(r.chain_id), reason: 'missing', checked, collected };
      if (linkHash(prev, r.canon) !== r.hash) return { kind: 'broken', eventId: Number(r.chain_id), reason: 'changed', checked, collected };
      prev = r.hash;
      if (collect.size > 0 && collect.has(Number(r.chain_id))) collected.set(Number(r.chain_id), prev);
      checked++;
    }
    after = last;
    if (!next) break;
    rows = await next;
  }
  const unsealed = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from events where id > ${after}::bigint`));
  return { kind: 'ok', checked, head: prev, headEventId: Number(after), unsealed: unsealed[0]?.n ?? 0, prunedUpTo: checkpoint?.upTo ?? 0, collected };
}
