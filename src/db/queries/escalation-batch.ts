import { getTableColumns, getTableName } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow, type NewEscalationRow } from '../schema/escalations.js';
import { events } from '../schema/events.js';
import { spendLedger } from '../schema/spend-ledger.js';
import { insertEscalationRecorded } from './escalations.js';
import type { EventInput } from './events.js';
import { recordSpend } from './spend.js';
import { GroupStatement } from './group-statement.js';
import { runnerOf, type Param, type Run } from './runner.js';

/**
 * Group commit for `insertEscalationRecorded`: concurrent callers' rows and
 * their events go to Postgres in one statement (one round trip, one commit),
 * `INSERT … ON CONFLICT (id) DO NOTHING RETURNING *` with the events in a
 * data-modifying CTE joined to the rows actually inserted. Each row still
 * commits together with its event, or neither does, before its caller
 * resumes; a conflicting id yields undefined, as before.
 *
 * An action allowed at intake brings its spend: the ledger row goes in the
 * same statement, joined to the rows actually inserted, so the spend and its
 * escalation commit together (a retry after a crash records both, once) at
 * the cost of no extra round trip.
 *
 * Batching follows group-statement.ts: no timer, one shape (set of columns)
 * and an id at most once per statement, and a failed statement of several
 * rows retried row by row, so one bad row never fails others.
 */
interface Item {
  row: NewEscalationRow;
  /** In order; each the row's own (its escalationId is the row's id). */
  events: readonly EventInput[];
  spend: ActionSpend | undefined;
  shape: string;
}

/** The action's own spend, recorded with its escalation (spend_ledger kind `action`). */
export interface ActionSpend {
  agentId: string;
  executionId: string;
  usdMicros: number;
  at: Date;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const COLUMNS = Object.entries(getTableColumns(escalations));
const BY_KEY = new Map(COLUMNS);
const TYPE_BY_KEY = new Map(COLUMNS.map(([key, col]) => [key, col.getSQLType()]));
/**
 * What the statement sends back: every column but the request, which the
 * caller already holds (it is most of a row's bytes, and serialising it to
 * text and parsing it back cost a lone insert about 0.15 ms at p50).
 */
const RETURNED = COLUMNS.filter(([key]) => key !== 'request')
  .map(([, col]) => `ins.${quote(col.name)}`)
  .join(', ');

const ESCALATIONS = quote(getTableName(escalations));
const EVENTS = quote(getTableName(events));
const SPEND = quote(getTableName(spendLedger));

/** Both statements' first step: the rows from `source`, an id already taken inserting nothing. */
const insertRows = (keys: readonly string[], source: string) => `with ins as (
      insert into ${ESCALATIONS} (${keys.map((k) => quote(BY_KEY.get(k)!.name)).join(', ')})
      ${source}
      on conflict (id) do nothing
      returning *
    )`;

/** One statement text per set of given columns; the rows travel as one jsonb parameter, the events as another. */
const statements = new Map<string, string>();
function statementFor(shape: string): string {
  let text = statements.get(shape);
  if (text) return text;
  const keys = shape.split(',');
  // JSON null is SQL null (as in insertEscalationRecorded); jsonb stays jsonb, the rest is cast from text.
  const exprs = keys.map((k) => {
    const type = TYPE_BY_KEY.get(k)!;
    return type === 'jsonb' ? `nullif(r.j -> '${k}', 'null'::jsonb)` : `(r.j ->> '${k}')::${type}`;
  });
  text = `${insertRows(keys, `select ${exprs.join(', ')} from jsonb_array_elements($1::jsonb) with ordinality as r (j, n) order by r.n`)}, ev as (
      insert into ${EVENTS} (escalation_id, execution_id, type, actor, data)
      select ins.id, e.j ->> 'executionId', e.j ->> 'type', e.j ->> 'actor',
        case when e.j -> 'rowRequest' = 'true'::jsonb
          then coalesce(e.j -> 'data', '{}'::jsonb) || jsonb_build_object('request', ins.request)
          else coalesce(e.j -> 'data', '{}'::jsonb) end
      from ins join jsonb_array_elements($2::jsonb) with ordinality as e (j, n) on (e.j ->> 'escalationId')::uuid = ins.id
      order by e.n
      returning id
    ), sp as (
      insert into ${SPEND} (agent_id, execution_id, escalation_id, kind, usd_micros, at)
      select s.j ->> 'agentId', s.j ->> 'executionId', ins.id, 'action', (s.j ->> 'usdMicros')::bigint, (s.j ->> 'at')::timestamptz
      from ins join jsonb_array_elements($3::jsonb) as s (j) on (s.j ->> 'escalationId')::uuid = ins.id
      on conflict do nothing
      returning id
    )
    select ${RETURNED} from ins`;
  statements.set(shape, text);
  return text;
}

/**
 * A lone request's statement: the same writes, each value bound to a typed
 * parameter of its own. Postgres then takes nothing apart from JSON and joins
 * nothing, which cut a lone insert by about 0.2 ms at p50 (at 100/s, on the
 * slow machine: 1.87 -> 1.68 ms, raw INSERT 1.12 ms). One text per shape,
 * number of events and spend or none.
 */
const loneStatements = new Map<string, string>();
function loneStatementFor(shape: string, eventCount: number, withSpend: boolean): string {
  const cacheKey = `${shape}|${eventCount}|${withSpend ? 1 : 0}`;
  let text = loneStatements.get(cacheKey);
  if (text) return text;
  const keys = shape.split(',');
  let n = 0;
  const next = (type: string) => `$${++n}::${type}`;
  const rows = keys.map((k) => next(TYPE_BY_KEY.get(k)!)).join(', ');
  const evRows = Array.from({ length: eventCount }, (_, i) => `(${next('text')}, ${next('text')}, ${next('text')}, ${next('jsonb')}, ${next('boolean')}, ${i})`);
  const spend = withSpend
    ? `, sp as (
      insert into ${SPEND} (agent_id, execution_id, escalation_id, kind, usd_micros, at)
      select ${next('text')}, ${next('text')}, ins.id, 'action', ${next('bigint')}, ${next('timestamptz')} from ins
      on conflict do nothing
      returning id
    )`
    : '';
  text = `${insertRows(keys, `values (${rows})`)}, ev as (
      insert into ${EVENTS} (escalation_id, execution_id, type, actor, data)
      select ins.id, v.x, v.t, v.a, case when v.own then v.d || jsonb_build_object('request', ins.request) else v.d end
      from ins cross join (values ${evRows.join(', ')}) as v (x, t, a, d, own, n)
      order by v.n
      returning id
    )${spend}
    select ${RETURNED} from ins`;
  loneStatements.set(cacheKey, text);
  return text;
}

/**
 * A lone row's values as its statement takes them: null as SQL null, jsonb
 * as its text, a date as ISO text; booleans and numbers as themselves, since
 * the driver serialises those by the parameter's type ('true' is not true).
 */
function paramOf(value: unknown, type: string): Param {
  if (value === null || value === undefined) return null;
  if (type === 'jsonb') return JSON.stringify(value);
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'boolean' || typeof value === 'number' ? value : String(value);
}

function loneParams(b: Item): Param[] {
  const params = Object.entries(b.row).map(([k, v]) => paramOf(v, TYPE_BY_KEY.get(k)!));
  for (const ev of b.events) {
    const json = eventJson(ev, b.row);
    params.push((json.executionId as string | null | undefined) ?? null, ev.type, ev.actor, JSON.stringify(json.data ?? {}), json.rowRequest === true);
  }
  if (b.spend) params.push(b.spend.agentId, b.spend.executionId, String(b.spend.usdMicros), b.spend.at.toISOString());
  return params;
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

/**
 * An event as the statement takes it. The `received` event carries the stored
 * request, as its row does: when it is the row's own, it is sent once, with
 * the row, and the statement puts the row's copy under the event's `request`.
 * An escalation's request is most of a statement's bytes.
 */
function eventJson(ev: EventInput, row: NewEscalationRow): Record<string, unknown> {
  const data = ev.data;
  if (data?.request === undefined || data.request !== row.request) return { ...ev, escalationId: row.id };
  const { request: _sentWithTheRow, ...rest } = data;
  return { ...ev, data: rest, rowRequest: true, escalationId: row.id };
}

function groupFor(db: DbOrTx, execute: Run): GroupStatement<Item, EscalationRow | undefined> {
  const runMany = async (batch: readonly Item[]) => {
    const first = batch[0]!;
    const list =
      batch.length === 1
        ? await execute(loneStatementFor(first.shape, first.events.length, first.spend !== undefined), loneParams(first))
        : await execute(statementFor(first.shape), [
            JSON.stringify(batch.map((b) => b.row)),
            JSON.stringify(batch.flatMap((b) => b.events.map((ev) => eventJson(ev, b.row)))),
            JSON.stringify(batch.flatMap((b) => (b.spend ? [{ ...b.spend, escalationId: b.row.id }] : []))),
          ]);
    const requests = new Map(batch.map((b) => [String(b.row.id), b.row.request ?? null]));
    // The request the row was given, as given: the same JSON the row holds (key order aside).
    return new Map(list.map((raw) => [String(raw.id), { ...toRow(raw), request: requests.get(String(raw.id)) ?? null }]));
  };
  return new GroupStatement<Item, EscalationRow | undefined>({
    runMany,
    // With a spend, the group's statement alone keeps it atomic with its row.
    runOne: async (b) => (b.spend ? (await runMany([b])).get(String(b.row.id)) : insertEscalationRecorded(db, b.row, b.events)),
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
 * row (undefined if the id exists), with its events (in order) committed in the
 * same statement. Events for another escalation take the unbatched path.
 */
export function insertEscalationRecordedBatched(db: DbOrTx, row: NewEscalationRow, event: EventInput | readonly EventInput[], spend?: ActionSpend): Promise<EscalationRow | undefined> {
  const events = Array.isArray(event) ? (event as readonly EventInput[]) : [event as EventInput];
  if (events.some((ev) => ev.escalationId !== row.id)) return insertUnbatched(db, row, events, spend);
  let b = batchers.get(db);
  if (!b) {
    const run = runnerOf(db);
    if (!run) return insertUnbatched(db, row, events, spend);
    batchers.set(db, (b = groupFor(db, run)));
  }
  const given = Object.entries(row).filter(([k, v]) => v !== undefined && BY_KEY.has(k));
  // Keys not in the table are dropped by drizzle too; null stays null.
  const clean = Object.fromEntries(given) as NewEscalationRow;
  const shape = given.map(([k]) => k).join(',');
  return b.add(String(clean.id), { row: clean, events, spend, shape });
}

/**
 * Without a runner (a transaction handle): the spend first, in a statement of
 * its own whose commit need not wait for its WAL flush, since the escalation's
 * synchronous commit right after flushes the log past it. A crash between the
 * two loses the spend only with its escalation, and the retry records both.
 */
async function insertUnbatched(db: DbOrTx, row: NewEscalationRow, events: readonly EventInput[], spend: ActionSpend | undefined): Promise<EscalationRow | undefined> {
  if (spend) await recordSpend(db, { ...spend, escalationId: row.id ?? null, kind: 'action' }, { flushWithNext: true });
  return insertEscalationRecorded(db, row, events);
}
