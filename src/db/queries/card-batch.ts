import { getTableName } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow } from '../schema/escalations.js';
import { events } from '../schema/events.js';
import { runnerOf, toRow, type Run } from './escalation-batch.js';
import { getEscalation, markCardPostedRecorded } from './escalations.js';
import type { EventInput } from './events.js';

/**
 * Group statements for the two per-escalation statements left on the card
 * path (as escalation-batch.ts does for the insert): concurrent callers share
 * one statement, one round trip and, for the update, one commit. No timer: a
 * statement goes out at once while fewer than MAX_IN_FLIGHT of its kind run,
 * and requests arriving meanwhile ride on the next. Each caller gets exactly
 * what its own statement would have given it; a failed group is retried one
 * by one, so one bad request never fails the others.
 */
const MAX_IN_FLIGHT = 3;
const MAX_ITEMS = 200;

interface Item<I, R> {
  key: string;
  input: I;
  resolve(r: R): void;
  reject(err: unknown): void;
}

class Group<I, R> {
  #pending: Array<Item<I, R>> = [];
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly runMany: (inputs: I[]) => Promise<Map<string, R>>,
    private readonly runOne: (input: I) => Promise<R>,
    /** Whether one statement may carry a key twice (reads may; a guarded update must not). */
    private readonly repeatKeys: boolean,
    private readonly missing: R,
  ) {}

  add(key: string, input: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ key, input, resolve, reject });
      this.#schedule();
    });
  }

  /** Requests arriving in the same turn of the event loop share a statement even when idle. */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= MAX_IN_FLIGHT || this.#pending.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#inFlight >= MAX_IN_FLIGHT || this.#pending.length === 0) return;
    const batch: Array<Item<I, R>> = [];
    const rest: Array<Item<I, R>> = [];
    const keys = new Set<string>();
    for (const item of this.#pending) {
      if (batch.length < MAX_ITEMS && (this.repeatKeys || !keys.has(item.key))) {
        batch.push(item);
        keys.add(item.key);
      } else rest.push(item);
    }
    this.#pending = rest;
    this.#inFlight++;
    void this.#run(batch).finally(() => {
      this.#inFlight--;
      this.#flush();
      this.#schedule();
    });
    this.#schedule();
  }

  async #run(batch: Array<Item<I, R>>): Promise<void> {
    if (batch.length === 1) {
      const only = batch[0]!;
      return this.runOne(only.input).then(only.resolve, only.reject);
    }
    try {
      const byKey = await this.runMany(batch.map((b) => b.input));
      for (const b of batch) b.resolve(byKey.has(b.key) ? byKey.get(b.key)! : this.missing);
    } catch {
      await Promise.all(batch.map((b) => this.runOne(b.input).then(b.resolve, b.reject)));
    }
  }
}

const T_ESC = `"${getTableName(escalations)}"`;
const T_EV = `"${getTableName(events)}"`;

const BY_IDS = `select * from ${T_ESC} where id = any(array(select jsonb_array_elements_text($1::jsonb)::uuid))`;

// The guarded UPDATE of markCardPostedRecorded for many rows, each row's events inserted only if its update took.
const MARK_POSTED = `with v as (
    select (j ->> 'id')::uuid as id, j ->> 'ts' as ts from jsonb_array_elements($1::jsonb) as r (j)
  ), locked as (
    -- Rows locked in id order, so two statements over the same rows never deadlock.
    select e.id from ${T_ESC} as e join v on v.id = e.id where e.card_ts is null order by e.id for update of e
  ), upd as (
    update ${T_ESC} as e set card_state = 'posted', card_ts = v.ts from v
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
  read: Group<string, EscalationRow | undefined>;
  mark: Group<MarkInput, Marked>;
}
const groups = new WeakMap<object, Groups | null>();

function groupsOf(db: DbOrTx): Groups | null {
  let g = groups.get(db);
  if (g !== undefined) return g;
  const run: Run | undefined = runnerOf(db);
  g = run
    ? {
        read: new Group<string, EscalationRow | undefined>(
          async (ids) => new Map((await run(BY_IDS, [JSON.stringify(ids)])).map((raw) => [String(raw.id), toRow(raw)])),
          (id) => getEscalation(db, id),
          true,
          undefined,
        ),
        mark: new Group<MarkInput, Marked>(
          async (list) => {
            const rows = JSON.stringify(list.map((m) => ({ id: m.id, ts: m.ts })));
            // `u`: the update each event rides on (its escalationId may be anything the caller chose).
            const evs = JSON.stringify(list.flatMap((m) => m.events.map((e) => ({ ...e, escalationId: e.escalationId ?? null, executionId: e.executionId ?? null, u: m.id }))));
            const out = await run(MARK_POSTED, [rows, evs]);
            return new Map(out.map((raw) => [String(raw.id), { status: String(raw.status), reviewState: String(raw.review_state) }]));
          },
          (m) => markCardPostedRecorded(db, m.id, m.ts, m.events),
          false,
          undefined,
        ),
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
