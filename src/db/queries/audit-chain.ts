import { sql } from 'drizzle-orm';
import type { Db } from '../client.js';
import { GENESIS, linkHash, type ChainedEvent, type VerifyFinding } from '../../domain/audit-chain.js';
import { auditChain } from '../schema/audit-chain.js';

/** postgres.js answers raw queries with an array, PGlite with `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** Only one sealer at a time, across replicas. */
const SEAL_LOCK = 0x436f756e74436861n; // "CountCha"

type Row = { id: string; escalation_id: string | null; execution_id: string | null; type: string; actor: string; at_micros: string; data: unknown };

const toEvent = (r: Row): ChainedEvent => ({
  id: Number(r.id),
  escalationId: r.escalation_id,
  executionId: r.execution_id,
  type: r.type,
  actor: r.actor,
  atMicros: r.at_micros,
  data: r.data,
});

const EVENT_COLUMNS = sql`e.id::text as id, e.escalation_id, e.execution_id, e.type, e.actor,
  (extract(epoch from e.at) * 1000000)::bigint::text as at_micros, e.data`;

/**
 * Seals events into the chain in id order, a batch at a time, behind the hot
 * path. Only events older than `lagMs` are sealed, so a transaction that took
 * an id but commits late is not skipped over.
 */
export async function sealChain(db: Db, opts: { batch?: number; lagMs?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 5000;
  const lag = `${Math.max(0, opts.lagMs ?? 5000)} milliseconds`;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${SEAL_LOCK.toString()}::bigint)`);
    const head = rowsOf<{ id: string; hash: string }>(await tx.execute(sql`select event_id::text as id, hash from audit_chain order by event_id desc limit 1`));
    let prev = head[0]?.hash ?? GENESIS;
    const after = head[0]?.id ?? '0';
    const rows = rowsOf<Row>(
      await tx.execute(sql`select ${EVENT_COLUMNS} from events e
        where e.id > ${after}::bigint and e.at < now() - ${lag}::interval order by e.id limit ${batch}`),
    );
    if (rows.length === 0) return 0;
    const links = rows.map((r) => {
      prev = linkHash(prev, toEvent(r));
      return { eventId: Number(r.id), hash: prev };
    });
    await tx.insert(auditChain).values(links);
    return links.length;
  });
}

/**
 * Walks the chain from the start and names the first broken record: an event
 * changed after sealing, an event deleted, or a link that doesn't follow.
 */
export async function verifyChain(db: Db, opts: { pageSize?: number } = {}): Promise<VerifyFinding> {
  const page = opts.pageSize ?? 20_000;
  let prev = GENESIS;
  let after = '0';
  let checked = 0;
  for (;;) {
    const rows = rowsOf<Row & { chain_id: string; hash: string }>(
      await db.execute(sql`select c.event_id::text as chain_id, c.hash, ${EVENT_COLUMNS}
        from audit_chain c left join events e on e.id = c.event_id
        where c.event_id > ${after}::bigint order by c.event_id limit ${page}`),
    );
    for (const r of rows) {
      if (r.id === null) return { kind: 'broken', eventId: Number(r.chain_id), reason: 'missing', checked };
      const expected = linkHash(prev, toEvent(r));
      if (expected !== r.hash) return { kind: 'broken', eventId: Number(r.chain_id), reason: 'changed', checked };
      prev = r.hash;
      checked++;
    }
    if (rows.length > 0) after = rows[rows.length - 1]!.chain_id;
    if (rows.length < page) break;
  }
  const unsealed = rowsOf<{ n: number }>(await db.execute(sql`select count(*)::int as n from events where id > ${after}::bigint`));
  return { kind: 'ok', checked, head: prev, unsealed: unsealed[0]?.n ?? 0 };
}
