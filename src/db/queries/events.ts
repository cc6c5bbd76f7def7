import { and, eq, getTableName, sql, type WithSubquery } from 'drizzle-orm';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../client.js';
import { events, type EventType, type NewEventRow } from '../schema/events.js';
import { GroupStatement } from './group-statement.js';
import { runnerOf } from './runner.js';

export interface EventInput {
  escalationId?: string | null;
  executionId?: string | null;
  type: EventType;
  actor: string;
  data?: Record<string, unknown>;
}

/** Up to this many events go through a prepared statement (one per count, per connection pool). */
const PREPARED_MAX = 2;
type PreparedInsert = { execute(params: Record<string, unknown>): Promise<unknown> };
const preparedInserts = new WeakMap<DbOrTx, PreparedInsert[]>();

/**
 * A prepared INSERT of `count` events: one round trip per call. An unprepared
 * parameterised query costs postgres.js two (Parse/Describe, then Bind/Execute)
 * and Postgres a fresh parse and plan each time.
 */
function preparedInsert(db: DbOrTx, count: number): PreparedInsert {
  let byCount = preparedInserts.get(db);
  if (!byCount) preparedInserts.set(db, (byCount = []));
  let q = byCount[count];
  if (!q) {
    const rows = Array.from({ length: count }, (_, i) => ({
      escalationId: sql`${ph(i, 'escalation_id')}::uuid`,
      executionId: sql`${ph(i, 'execution_id')}::text`,
      type: sql`${ph(i, 'type')}::text`,
      actor: sql`${ph(i, 'actor')}::text`,
      data: sql`${ph(i, 'data')}::jsonb`,
    })) as unknown as NewEventRow[];
    byCount[count] = q = db.insert(events).values(rows).prepare(`record_events_${count}`);
  }
  return q;
}

/** One INSERT of `input`, in order: prepared for one or two events. */
async function insertEvents(db: DbOrTx, input: EventInput[]): Promise<void> {
  if (input.length <= PREPARED_MAX) {
    await preparedInsert(db, input.length).execute(eventParams(input));
    return;
  }
  const rows: NewEventRow[] = input.map((e) => ({
    escalationId: e.escalationId ?? null,
    executionId: e.executionId ?? null,
    type: e.type,
    actor: e.actor,
    data: e.data ?? {},
  }));
  await db.insert(events).values(rows);
}

/**
 * Concurrent callers' events in one INSERT (group-statement.ts): one round
 * trip and one commit, each caller's events in its own order, each caller
 * resuming once its events are committed. A lone caller uses the prepared
 * insert; a transaction handle writes its own, inside its transaction.
 */
const INSERT_MANY = `insert into "${getTableName(events)}" (escalation_id, execution_id, type, actor, data)
  select (x.j ->> 'escalationId')::uuid, x.j ->> 'executionId', x.j ->> 'type', x.j ->> 'actor', coalesce(x.j -> 'data', '{}'::jsonb)
  from jsonb_array_elements($1::jsonb) with ordinality as x (j, n)
  order by x.n`;
const groups = new WeakMap<object, GroupStatement<EventInput[], true> | null>();

function groupOf(db: DbOrTx): GroupStatement<EventInput[], true> | null {
  let g = groups.get(db);
  if (g !== undefined) return g;
  const run = runnerOf(db);
  g = run
    ? new GroupStatement<EventInput[], true>({
        runMany: async (lists) => {
          const rows = lists.flat().map((e) => ({ escalationId: e.escalationId ?? null, executionId: e.executionId ?? null, type: e.type, actor: e.actor, data: e.data ?? {} }));
          await run(INSERT_MANY, [JSON.stringify(rows)]);
          // All rows or none (then it throws): each caller gets `missing`, true.
          return new Map();
        },
        runOne: async (list) => {
          await insertEvents(db, list);
          return true;
        },
        repeatKeys: true,
        missing: true,
      })
    : null;
  groups.set(db, g);
  return g;
}

/** The only write path to `events`: INSERT, never UPDATE or DELETE. */
export async function recordEvents(db: DbOrTx, input: EventInput[]): Promise<void> {
  if (input.length === 0) return;
  const g = groupOf(db);
  // One key for all: with repeatKeys any number share a statement.
  if (g) await g.add('', input);
  else await insertEvents(db, input);
}

export function recordEvent(db: DbOrTx, e: EventInput): Promise<void> {
  return recordEvents(db, [e]);
}

const qb = new QueryBuilder();
const col = (c: { name: string }) => sql.identifier(c.name);
const EVENT_COLUMNS = sql.join([events.escalationId, events.executionId, events.type, events.actor, events.data].map(col), sql`, `);
const ph = (i: number, field: string) => sql.placeholder(`ev${i}_${field}`);

/** `count` placeholder rows (escalation_id, execution_id, type, actor, data, ord), for a VALUES list. */
function placeholderRows(count: number) {
  return Array.from(
    { length: count },
    (_, i) => sql`(${ph(i, 'escalation_id')}::uuid, ${ph(i, 'execution_id')}::text, ${ph(i, 'type')}::text, ${ph(i, 'actor')}::text, ${ph(i, 'data')}::jsonb, ${sql.raw(String(i))})`,
  );
}

/**
 * The same INSERT as a data-modifying CTE: `count` events, in order, for
 * each row that `source` (a CTE such as a guarded `UPDATE … RETURNING`)
 * yields, and none if it yields none. Being part of the one statement that
 * makes the write, they commit with it or not at all, with no extra round
 * trip or BEGIN/COMMIT. Values are placeholders (so the statement can be
 * prepared once): pass `eventParams(events)` when executing.
 */
export function eventsAfter(name: string, source: WithSubquery, count: number) {
  const rows = placeholderRows(count);
  return qb.$with(name, { id: sql<number>`id` }).as(
    sql`insert into ${events} (${EVENT_COLUMNS})
      select v.escalation_id, v.execution_id, v.type, v.actor, v.data
      from ${source} cross join (values ${sql.join(rows, sql`, `)}) as v (escalation_id, execution_id, type, actor, data, ord)
      order by v.ord
      returning ${col(events.id)}`,
  );
}

/**
 * Like `eventsAfter`, in one ordered INSERT: the first `always` of `count`
 * events are inserted whatever happens, the rest only if `guard` yields a row
 * (e.g. `card_updated` always, then `agent_notified` only if this statement
 * set `notified_at`). Saves a round trip over recording them apart.
 */
export function eventsAlwaysThenIf(name: string, guard: WithSubquery, always: number, count: number) {
  const rows = placeholderRows(count);
  return qb.$with(name, { id: sql<number>`id` }).as(
    sql`insert into ${events} (${EVENT_COLUMNS})
      select v.escalation_id, v.execution_id, v.type, v.actor, v.data
      from (values ${sql.join(rows, sql`, `)}) as v (escalation_id, execution_id, type, actor, data, ord)
      where v.ord < ${sql.raw(String(always))} or exists (select 1 from ${guard})
      order by v.ord
      returning ${col(events.id)}`,
  );
}

/** Placeholder values for `eventsAfter`. */
export function eventParams(list: readonly EventInput[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  list.forEach((e, i) => {
    params[`ev${i}_escalation_id`] = e.escalationId ?? null;
    params[`ev${i}_execution_id`] = e.executionId ?? null;
    params[`ev${i}_type`] = e.type;
    params[`ev${i}_actor`] = e.actor;
    params[`ev${i}_data`] = JSON.stringify(e.data ?? {});
  });
  return params;
}

/** Whether this user's `kind` click on the escalation was recorded (as made, refused or already decided). */
export async function clickRecorded(db: DbOrTx, escalationId: string, userId: string, kind: string): Promise<boolean> {
  const rows = await db
    .select({ id: events.id })
    .from(events)
    .where(and(eq(events.escalationId, escalationId), eq(events.type, 'decision_attempted'), eq(events.actor, userId), sql`${events.data} ->> 'kind' = ${kind}`))
    .limit(1);
  return rows.length > 0;
}
