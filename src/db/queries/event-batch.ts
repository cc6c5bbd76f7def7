import { getTableName } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { events } from '../schema/events.js';
import { runnerOf } from './escalation-batch.js';
import { recordEvents, type EventInput } from './events.js';
import { GroupStatement } from './group-statement.js';

/**
 * recordEvents, group-committed (group-statement.ts): concurrent callers'
 * events go in one INSERT, one round trip and one commit, each caller's in
 * its own order, and each caller resumes only once its events are committed.
 * A transaction handle writes its own, inside its transaction.
 */
const INSERT_MANY = `insert into "${getTableName(events)}" (escalation_id, execution_id, type, actor, data)
  select (x.j ->> 'escalationId')::uuid, x.j ->> 'executionId', x.j ->> 'type', x.j ->> 'actor', coalesce(x.j -> 'data', '{}'::jsonb)
  from jsonb_array_elements($1::jsonb) with ordinality as x (j, n)
  order by x.n`;

const groups = new WeakMap<object, GroupStatement<EventInput[], true> | null>();
/** Keys only tell requests apart (repeatKeys: any number share a statement). */
let seq = 0;

function groupOf(db: DbOrTx): GroupStatement<EventInput[], true> | null {
  let g = groups.get(db);
  if (g !== undefined) return g;
  const run = runnerOf(db);
  g = run
    ? new GroupStatement<EventInput[], true>({
        runMany: async (lists) => {
          const rows = lists.flatMap((list) =>
            list.map((e) => ({ escalationId: e.escalationId ?? null, executionId: e.executionId ?? null, type: e.type, actor: e.actor, data: e.data ?? {} })),
          );
          await run(INSERT_MANY, [JSON.stringify(rows)]);
          // The statement inserts every row or none (then it throws): each caller gets `missing`, true.
          return new Map();
        },
        runOne: async (list) => {
          await recordEvents(db, list);
          return true;
        },
        repeatKeys: true,
        missing: true,
      })
    : null;
  groups.set(db, g);
  return g;
}

export async function recordEventsGrouped(db: DbOrTx, input: EventInput[]): Promise<void> {
  if (input.length === 0) return;
  const g = groupOf(db);
  if (!g) return recordEvents(db, input);
  await g.add(String(seq++), input);
}

export function recordEventGrouped(db: DbOrTx, e: EventInput): Promise<void> {
  return recordEventsGrouped(db, [e]);
}
