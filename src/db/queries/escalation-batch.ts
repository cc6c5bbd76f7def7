import { getTableColumns, getTableName } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow, type NewEscalationRow } from '../schema/escalations.js';
import { events } from '../schema/events.js';
import { insertEscalationRecorded } from './escalations.js';
import type { EventInput } from './events.js';
import { GroupStatement } from './group-statement.js';
import { runnerOf, type Run } from './runner.js';

/**
 * Group commit for `insertEscalationRecorded`: concurrent callers' rows and
 * their events go to Postgres in one statement (one round trip, one commit),
 * `INSERT … ON CONFLICT (id) DO NOTHING RETURNING *` with the events in a
 * data-modifying CTE joined to the rows actually inserted. Each row still
 * commits together with its event, or neither does, before its caller
 * resumes; a conflicting id yields undefined, as before.
 *
 * Batching follows group-statement.ts: no timer, one shape (set of columns)
 * and an id at most once per statement, and a failed statement of several
 * rows retried row by row, so one bad row never fails others.
 */
interface Item {
  row: NewEscalationRow;
  event: EventInput;
  shape: string;
}

const COLUMNS = Object.entries(getTableColumns(escalations));
const BY_KEY = new Map(COLUMNS);

/** One statement text per set of given columns; the rows travel as one jsonb parameter, the events as another. */
const statements = new Map<string, string>();
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
function statementFor(shape: string): string {
  let text = statements.get(shape);
  if (text) return text;
  const keys = shape.split(',');
  const cols = keys.map((k) => BY_KEY.get(k)!);
  // JSON null is SQL null (as in insertEscalationRecorded); jsonb stays jsonb, the rest is cast from text.
  const exprs = keys.map((k, i) => {
    const type = cols[i]!.getSQLType();
    return type === 'jsonb' ? `nullif(r.j -> '${k}', 'null'::jsonb)` : `(r.j ->> '${k}')::${type}`;
  });
  text = `with ins as (
      insert into ${quote(getTableName(escalations))} (${cols.map((c) => quote(c.name)).join(', ')})
      select ${exprs.join(', ')} from jsonb_array_elements($1::jsonb) with ordinality as r (j, n) order by r.n
      on conflict (id) do nothing
      returning *
    ), ev as (
      insert into ${quote(getTableName(events))} (escalation_id, execution_id, type, actor, data)
      select ins.id, e.j ->> 'executionId', e.j ->> 'type', e.j ->> 'actor', coalesce(e.j -> 'data', '{}'::jsonb)
      from ins join jsonb_array_elements($2::jsonb) with ordinality as e (j, n) on (e.j ->> 'escalationId')::uuid = ins.id
      order by e.n
      returning id
    )
    select * from ins`;
  statements.set(shape, text);
  return text;
}

/** A raw `returning *` row, mapped as drizzle maps a select. */
export function toRow(raw: Record<string, unknown>): EscalationRow {
  const out: Record<string, unknown> = {};
  for (const [key, col] of COLUMNS) {
    const v = raw[col.name];
    out[key] = v === null || v === undefined ? null : col.mapFromDriverValue(v);
  }
  return out as EscalationRow;
}

function groupFor(db: DbOrTx, execute: Run): GroupStatement<Item, EscalationRow | undefined> {
  return new GroupStatement<Item, EscalationRow | undefined>({
    runMany: async (batch) => {
      const rows = JSON.stringify(batch.map((b) => b.row));
      const evs = JSON.stringify(batch.map((b) => ({ ...b.event, escalationId: b.row.id })));
      const list = await execute(statementFor(batch[0]!.shape), [rows, evs]);
      return new Map(list.map((raw) => [String(raw.id), toRow(raw)]));
    },
    runOne: (b) => insertEscalationRecorded(db, b.row, b.event),
    repeatKeys: false,
    // A conflicting id inserts nothing: undefined, as insertEscalationRecorded answers.
    missing: undefined,
    shapeOf: (b) => b.shape,
    loneViaMany: true,
  });
}

const batchers = new WeakMap<object, GroupStatement<Item, EscalationRow | undefined>>();

/**
 * insertEscalationRecorded, group-committed with concurrent callers: the new
 * row (undefined if the id exists), with its event committed in the same
 * statement. The event must belong to the row (its escalationId is the row's id).
 */
export function insertEscalationRecordedBatched(db: DbOrTx, row: NewEscalationRow, event: EventInput): Promise<EscalationRow | undefined> {
  if (event.escalationId !== row.id) return insertEscalationRecorded(db, row, event);
  let b = batchers.get(db);
  if (!b) {
    const run = runnerOf(db);
    if (!run) return insertEscalationRecorded(db, row, event);
    batchers.set(db, (b = groupFor(db, run)));
  }
  const given = Object.entries(row).filter(([k, v]) => v !== undefined && BY_KEY.has(k));
  // Keys not in the table are dropped by drizzle too; null stays null.
  const clean = Object.fromEntries(given) as NewEscalationRow;
  const shape = given.map(([k]) => k).join(',');
  return b.add(String(clean.id), { row: clean, event, shape });
}
