import { getTableName } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow } from '../schema/escalations.js';
import { events } from '../schema/events.js';
import { toRow } from './escalation-batch.js';
import { runnerOf, type Run } from './runner.js';
import { getEscalation, markCardPostedRecorded } from './escalations.js';
import type { EventInput } from './events.js';
import { GroupStatement } from './group-statement.js';

/**
 * Group statements (group-statement.ts) for the two per-escalation statements
 * left on the card path, as escalation-batch.ts does for the insert.
 */
const T_ESC = `"${getTableName(escalations)}"`;
const T_EV = `"${getTableName(events)}"`;

const BY_IDS = `select * from ${T_ESC} where id = any(array(select jsonb_array_elements_text($1::jsonb)::uuid))`;

// The guarded UPDATE of markCardPostedRecorded for many rows, each row's events inserted only if its update took.
const MARK_POSTED = `with v as (
    select (j ->> 'id')::uuid as id, j ->> 'ts' as ts from jsonb_array_elements($1::jsonb) as r (j)
  ), locked as (
    -- Each row found by its primary key and locked, in id order, so two statements over the same
    -- rows never deadlock. The statement is planned at each run: a plan kept from when the table
    -- was small (a sequential scan, the cheapest there) scanned the whole table once per batch,
    -- a cost that grew with the table until the next ANALYZE.
    select l.id from (select distinct id from v order by id) as w
    cross join lateral (select e.id from ${T_ESC} as e where e.id = w.id and e.card_ts is null for update) as l
  ), upd as (
    update ${T_ESC} as e set card_state = 'posted', card_ts = v.ts, card_lease_until = null from v
    where e.id = v.id and e.id in (select id from locked) and e.card_ts is null
    returning e.id, e.status, e.review_state
  ), ev as (
    insert into ${T_EV} (escalation_id, execution_id, type, actor, data)
    select (x.j ->> 'escalationId')::uuid, x.j ->> 'executionId', x.j ->> 'type', x.j ->> 'actor', coalesce(x.j -> 'data', '{}'::jsonb)
    from jsonb_array_elements($2::jsonb) with ordinality as x (j, n) join upd on upd.id = (x.j ->> 'u')::uuid
    order by x.n
    returning id
  )
  select id, status, review_state from upd`;

type Marked = { status: string; reviewState: string } | undefined;
interface MarkInput {
  id: string;
  ts: string;
  events: readonly EventInput[];
}

interface Groups {
  read: GroupStatement<string, EscalationRow | undefined>;
  mark: GroupStatement<MarkInput, Marked>;
}
const groups = new WeakMap<object, Groups | null>();

function groupsOf(db: DbOrTx): Groups | null {
  let g = groups.get(db);
  if (g !== undefined) return g;
  const run: Run | undefined = runnerOf(db);
  g = run
    ? {
        read: new GroupStatement<string, EscalationRow | undefined>({
          runMany: async (ids) => new Map((await run(BY_IDS, [JSON.stringify(ids)])).map((raw) => [String(raw.id), toRow(raw)])),
          runOne: (id) => getEscalation(db, id),
          repeatKeys: true,
          missing: undefined,
        }),
        mark: new GroupStatement<MarkInput, Marked>({
          runMany: async (list) => {
            const rows = JSON.stringify(list.map((m) => ({ id: m.id, ts: m.ts })));
            // `u`: the update each event rides on (its escalationId may be anything the caller chose).
            const evs = JSON.stringify(list.flatMap((m) => m.events.map((e) => ({ ...e, escalationId: e.escalationId ?? null, executionId: e.executionId ?? null, u: m.id }))));
            // Planned at each run: see MARK_POSTED's `locked` step.
            const out = await run(MARK_POSTED, [rows, evs], 'planned each time');
            return new Map(out.map((raw) => [String(raw.id), { status: String(raw.status), reviewState: String(raw.review_state) }]));
          },
          runOne: (m) => markCardPostedRecorded(db, m.id, m.ts, m.events),
          repeatKeys: false,
          missing: undefined,
        }),
      }
    : null;
  groups.set(db, g);
  return g;
}

/** getEscalation, sharing one statement with concurrent callers (a transaction handle reads on its own). */
export function getEscalationGrouped(db: DbOrTx, id: string): Promise<EscalationRow | undefined> {
  const g = groupsOf(db);
  return g ? g.read.add(id, id) : getEscalation(db, id);
}

/**
 * markCardPostedRecorded, group-committed: the guarded update and its events
 * in one statement with concurrent callers' (each row's events exist only if
 * its own update took). Returns the row's state, or undefined when a ts was
 * already recorded.
 */
export function markCardPostedRecordedGrouped(db: DbOrTx, id: string, ts: string, event: EventInput | readonly EventInput[]): Promise<Marked> {
  const list = Array.isArray(event) ? (event as readonly EventInput[]) : [event as EventInput];
  const g = groupsOf(db);
  return g ? g.mark.add(id, { id, ts, events: list }) : markCardPostedRecorded(db, id, ts, list);
}
