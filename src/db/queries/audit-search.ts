import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client.js';
import { encodeCursor, type AuditFilter, type AuditQuery, type AuditRecord } from '../../domain/audit-query.js';

/** postgres.js answers raw queries with an array, PGlite with `{ rows }`. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** Times as ISO 8601 UTC text, built by Postgres so both drivers answer the same. */
const iso = (col: SQL) => sql`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The latest outcome report of `e` (an agent may report twice under different ids; the last one stands). */
const LATEST = sql`from outcomes o where o.escalation_id = e.id order by o.at desc, o.id desc limit 1`;

/**
 * Records for the rows of `page` (a subquery over escalations, already
 * filtered, ordered and limited): outcome details are fetched for those
 * rows only, through outcomes_escalation_at_idx.
 */
const recordsOf = (page: SQL, order: SQL) => sql`select e.id as escalation_id, e.execution_id,
    to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at,
    ${iso(sql`e.created_at`)} as created_at, e.agent_id, e.action_type, e.status, e.tier, e.route,
    e.policy_version, e.policy_rule, e.decided_by, ${iso(sql`e.decided_at`)} as decided_at, e.decision_reason,
    case o.success when true then 'success' when false then 'failure' end as outcome,
    ${iso(sql`o.at`)} as outcome_at, o.error as outcome_error, o.cost_tokens, o.cost_usd_micros::float8 / 1000000 as cost_usd
  from (${page}) e
  left join lateral (select o.success, o.at, o.error, o.cost_tokens, o.cost_usd_micros ${LATEST}) o on true
  order by ${order}`;

/**
 * WHERE clauses for a filter. Every equality filter has an index leading with
 * its column and ending in (created_at, id), so Postgres walks it in result
 * order and stops after one page; `success`/`failure` are checked per row on
 * the way (about 1 row in 20 fails, so a page of failures probes a few hundred).
 */
export function auditWhere(f: AuditFilter): SQL[] {
  const w: SQL[] = [];
  if (f.agent !== undefined) w.push(sql`e.agent_id = ${f.agent}`);
  if (f.action !== undefined) w.push(sql`e.action_type = ${f.action}`);
  if (f.exec !== undefined) w.push(sql`e.execution_id = ${f.exec}`);
  if (f.decider !== undefined) w.push(sql`e.decided_by = ${f.decider}`);
  if (f.from !== undefined) w.push(sql`e.created_at >= ${f.from.toISOString()}::timestamptz`);
  if (f.to !== undefined) w.push(sql`e.created_at < ${f.to.toISOString()}::timestamptz`);
  // Index-only probes: the index carries success after its sort keys.
  if (f.outcome === 'success') w.push(sql`(select o.success ${LATEST}) = true`);
  else if (f.outcome === 'failure') w.push(sql`(select o.success ${LATEST}) = false`);
  else if (f.outcome !== undefined) w.push(sql`e.status = ${f.outcome}`);
  return w;
}

type Row = AuditRecord & { cursor_at: string };

function toRecord(r: Row): AuditRecord {
  const { cursor_at: _, ...rest } = r;
  return { ...rest, cost_tokens: r.cost_tokens === null ? null : Number(r.cost_tokens), cost_usd: r.cost_usd === null ? null : Number(r.cost_usd) };
}

export interface AuditPage {
  records: AuditRecord[];
  /** Pass back for the next page; absent on the last page. */
  nextCursor?: string;
}

/** One page, newest first. Fetches one row more than the page to know whether another follows. */
export async function searchAudit(db: Db, q: AuditQuery): Promise<AuditPage> {
  const where = auditWhere(q.filter);
  if (q.cursor) where.push(sql`(e.created_at, e.id) < (${q.cursor.at}::timestamptz, ${q.cursor.id}::uuid)`);
  const cond = where.length > 0 ? sql` where ${sql.join(where, sql` and `)}` : sql``;
  const desc = sql`e.created_at desc, e.id desc`;
  const page = sql`select e.* from escalations e${cond} order by ${desc} limit ${q.limit + 1}`;
  const rows = rowsOf<Row>(await db.execute(recordsOf(page, desc)));
  const shown = rows.slice(0, q.limit);
  const last = shown[shown.length - 1];
  return {
    records: shown.map(toRecord),
    ...(rows.length > q.limit && last ? { nextCursor: encodeCursor({ at: last.cursor_at, id: last.escalation_id }) } : {}),
  };
}

/** Rows fetched from the server-side cursor at a time: bounds memory to this many records (plus the sink's buffer). */
export const EXPORT_BATCH = 1000;

/**
 * Streams every record matching `filter`, oldest first, to `sink` a batch at
 * a time through a server-side cursor (DECLARE … FETCH), inside one read-only
 * REPEATABLE READ transaction: the export is one consistent snapshot, and
 * only one batch is in memory while `sink` runs, since the next FETCH waits
 * for it. Works on postgres.js and PGlite alike. Returns the number of records.
 */
export async function exportAudit(
  db: Db,
  filter: AuditFilter,
  sink: (batch: AuditRecord[]) => Promise<void>,
  opts: { batch?: number } = {},
): Promise<number> {
  const batch = opts.batch ?? EXPORT_BATCH;
  const where = auditWhere(filter);
  const cond = where.length > 0 ? sql` where ${sql.join(where, sql` and `)}` : sql``;
  return db.transaction(
    async (tx) => {
      const asc = sql`e.created_at, e.id`;
      await tx.execute(sql`declare audit_export no scroll cursor for ${recordsOf(sql`select e.* from escalations e${cond} order by ${asc}`, asc)}`);
      let total = 0;
      for (;;) {
        const rows = rowsOf<Row>(await tx.execute(sql.raw(`fetch ${batch} from audit_export`)));
        if (rows.length > 0) await sink(rows.map(toRecord));
        total += rows.length;
        if (rows.length < batch) break;
      }
      await tx.execute(sql`close audit_export`);
      return total;
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}
