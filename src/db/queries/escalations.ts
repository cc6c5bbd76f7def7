import { and, asc, eq, gt, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow, type NewEscalationRow } from '../schema/escalations.js';
import { rowsOf } from './agent-modes.js';
import { eventParams, eventsAfter, eventsAlwaysThenIf, type EventInput } from './events.js';
import { ph, prepared } from './prepared.js';

export async function getEscalation(db: DbOrTx, id: string): Promise<EscalationRow | undefined> {
  const q = prepared(db, 'byId', () =>
    db.select().from(escalations).where(eq(escalations.id, sql.placeholder('id'))).limit(1).prepare('escalation_by_id'),
  );
  const rows = await q.execute({ id });
  return rows[0];
}

/** Inserts unless the id exists; returns the new row, or undefined on a duplicate. */
export async function insertEscalation(db: DbOrTx, row: NewEscalationRow): Promise<EscalationRow | undefined> {
  const rows = await db.insert(escalations).values(row).onConflictDoNothing({ target: escalations.id }).returning();
  return rows[0];
}

/** insertEscalation and, only if the row was new, its event: one statement, so both commit or neither. */
export async function insertEscalationRecorded(db: DbOrTx, row: NewEscalationRow, event: EventInput | readonly EventInput[]): Promise<EscalationRow | undefined> {
  const list = Array.isArray(event) ? (event as readonly EventInput[]) : [event as EventInput];
  const given = Object.entries(row).filter(([, v]) => v !== undefined);
  // Nulls are literal: a placeholder would pass null through the column's encoder (jsonb 'null', a Date method).
  const shape = given.map(([k, v]) => (v === null ? `${k}=null` : k)).join(',');
  const q = prepared(db, `insertRecorded:${list.length}:${shape}`, () => {
    const values = Object.fromEntries(given.map(([k, v]) => [k, v === null ? sql`null` : sql.placeholder(k)])) as unknown as NewEscalationRow;
    const ins = db.$with('ins').as(db.insert(escalations).values(values).onConflictDoNothing({ target: escalations.id }).returning());
    return db.with(ins, eventsAfter('ev', ins, list.length)).select().from(ins).prepare('insert_escalation_recorded');
  });
  const params = Object.fromEntries(given.filter(([, v]) => v !== null));
  const rows = await q.execute({ ...params, ...eventParams(list) });
  return rows[0];
}

/** Records the posted card once; a second ts for the same escalation is refused. */
export async function markCardPosted(db: DbOrTx, id: string, ts: string): Promise<EscalationRow | undefined> {
  const rows = await db
    .update(escalations)
    .set({ cardState: 'posted', cardTs: ts, cardLeaseUntil: null })
    .where(and(eq(escalations.id, id), isNull(escalations.cardTs)))
    .returning();
  return rows[0];
}

/** markCardPosted and, only if it took, its event: one statement, so both commit or neither. */
/** Returns the row's state as recorded, or undefined when a ts was already recorded. */
export async function markCardPostedRecorded(
  db: DbOrTx,
  id: string,
  ts: string,
  event: EventInput | readonly EventInput[],
): Promise<{ status: string; reviewState: string } | undefined> {
  // More events (e.g. who the card paged) ride in the same statement: no extra commit.
  const list = Array.isArray(event) ? (event as readonly EventInput[]) : [event as EventInput];
  const n = list.length;
  const q = prepared(db, `markCardPostedRecorded:${n}`, () => {
    const upd = db.$with('upd').as(
      db
        .update(escalations)
        .set({ cardState: 'posted', cardTs: ph('ts'), cardLeaseUntil: null })
        .where(and(eq(escalations.id, sql.placeholder('id')), isNull(escalations.cardTs)))
        .returning({ id: escalations.id, status: escalations.status, reviewState: escalations.reviewState }),
    );
    return db.with(upd, eventsAfter('ev', upd, n)).select().from(upd).prepare(n === 1 ? 'mark_card_posted_recorded_v2' : `mark_card_posted_recorded_v2_${n}`);
  });
  const rows = await q.execute({ id, ts, ...eventParams(list) });
  const row = rows[0];
  // The same answer as the grouped statement (card-batch.ts), which falls back to this one.
  return row && { status: row.status, reviewState: row.reviewState };
}

export interface DecisionWrite {
  id: string;
  digest: string;
  status: 'approved' | 'denied';
  by: string;
  reason: string | null;
  policyVersion: string;
  /** When, by the flow's clock (the clock the sample windows and reports read); default the database's now(). */
  at?: Date;
  /** `by` decided as the out-of-office delegate of this approver. */
  onBehalfOf?: string;
  /** Approved with edits: the params as approved (masked) and the digest the approval binds. */
  edited?: { params: Record<string, unknown>; digest: string };
}

/**
 * The first valid decision wins: the guard on `status = 'pending'` and on the
 * digest makes this a compare-and-set. Undefined means someone else already
 * decided (or the request changed).
 */
export async function decideEscalation(db: DbOrTx, d: DecisionWrite): Promise<EscalationRow | undefined> {
  const rows = await db
    .update(escalations)
    .set({
      status: d.status,
      decidedBy: d.by,
      decidedAt: d.at ?? sql`now()`,
      decisionReason: d.reason,
      policyVersion: d.policyVersion,
    })
    .where(and(eq(escalations.id, d.id), eq(escalations.status, 'pending'), eq(escalations.digest, d.digest)))
    .returning();
  return rows[0];
}

/**
 * decideEscalation and, only if this decision won, its events (in order):
 * one statement, so the decision and its record commit together or not at all.
 */
export async function decideEscalationRecorded(db: DbOrTx, d: DecisionWrite, recorded: readonly EventInput[]): Promise<EscalationRow | undefined> {
  // An approval with edits sets two more columns: its own statement, so the plain one stays as it was.
  const edited = d.edited !== undefined;
  const q = prepared(db, `decideRecorded:${recorded.length}:${edited}`, () => {
    const set = {
      status: ph('status'),
      decidedBy: ph('by'),
      decidedOnBehalfOf: sql`${sql.placeholder('onBehalfOf')}::text`,
      decidedAt: sql`coalesce(${sql.placeholder('at')}::timestamptz, now())`,
      decisionReason: ph('reason'),
      policyVersion: ph('policyVersion'),
      ...(edited ? { approvedParams: sql`${sql.placeholder('approvedParams')}::jsonb`, approvedDigest: ph('approvedDigest') } : {}),
    };
    const upd = db.$with('upd').as(
      db
        .update(escalations)
        .set(set)
        .where(and(eq(escalations.id, sql.placeholder('id')), eq(escalations.status, 'pending'), eq(escalations.digest, sql.placeholder('digest'))))
        .returning(),
    );
    return db.with(upd, eventsAfter('ev', upd, recorded.length)).select().from(upd).prepare(edited ? 'decide_escalation_recorded_edited' : 'decide_escalation_recorded');
  });
  const rows = await q.execute({
    id: d.id,
    digest: d.digest,
    status: d.status,
    by: d.by,
    reason: d.reason,
    policyVersion: d.policyVersion,
    at: d.at?.toISOString() ?? null,
    onBehalfOf: d.onBehalfOf ?? null,
    ...(d.edited ? { approvedParams: JSON.stringify(d.edited.params), approvedDigest: d.edited.digest } : {}),
    ...eventParams(recorded),
  });
  return rows[0];
}

/** Deadline passed with nobody deciding: fail-safe deny, guarded like a decision. */
export async function expireEscalation(db: DbOrTx, id: string, reason: string): Promise<EscalationRow | undefined> {
  const rows = await db
    .update(escalations)
    .set({ status: 'expired', failSafe: true, decidedAt: sql`now()`, decisionReason: reason })
    .where(and(eq(escalations.id, id), eq(escalations.status, 'pending')))
    .returning();
  return rows[0];
}

export async function markNotified(db: DbOrTx, id: string): Promise<void> {
  await db
    .update(escalations)
    .set({ notifiedAt: sql`now()` })
    .where(and(eq(escalations.id, id), isNull(escalations.notifiedAt)));
}

/** markNotified and, only if this call set it, its event: one statement, so both commit or neither. */
export async function markNotifiedRecorded(db: DbOrTx, id: string, event: EventInput): Promise<boolean> {
  const q = prepared(db, 'markNotifiedRecorded', () => {
    const upd = db.$with('upd').as(
      db
        .update(escalations)
        .set({ notifiedAt: sql`now()` })
        .where(and(eq(escalations.id, sql.placeholder('id')), isNull(escalations.notifiedAt)))
        .returning({ id: escalations.id }),
    );
    return db.with(upd, eventsAfter('ev', upd, 1)).select().from(upd).prepare('mark_notified_recorded');
  });
  const rows = await q.execute({ id, ...eventParams([event]) });
  return rows.length > 0;
}

/**
 * The card was updated (`cardEvent`, always recorded) and, in the same
 * statement, markNotifiedRecorded: `notified_at` set once, with its event only
 * if this statement set it. One round trip where notify made two.
 */
export async function cardUpdatedMarkNotifiedRecorded(db: DbOrTx, id: string, cardEvent: EventInput, notifiedEvent: EventInput): Promise<boolean> {
  const q = prepared(db, 'cardUpdatedMarkNotified', () => {
    const upd = db.$with('upd').as(
      db
        .update(escalations)
        .set({ notifiedAt: sql`now()` })
        .where(and(eq(escalations.id, sql.placeholder('id')), isNull(escalations.notifiedAt)))
        .returning({ id: escalations.id }),
    );
    return db.with(upd, eventsAlwaysThenIf('ev', upd, 1, 2)).select().from(upd).prepare('card_updated_mark_notified');
  });
  const rows = await q.execute({ id, ...eventParams([cardEvent, notifiedEvent]) });
  return rows.length > 0;
}

/** Decided long enough ago that the notify job should have run: the outbox sweep. */
export async function findUnnotified(db: DbOrTx, olderThan: Date, limit = 500): Promise<string[]> {
  const rows = await db
    .select({ id: escalations.id })
    .from(escalations)
    .where(
      and(
        isNull(escalations.notifiedAt),
        inArray(escalations.status, ['approved', 'denied', 'expired', 'rejected']),
        lt(escalations.decidedAt, olderThan),
      ),
    )
    .orderBy(asc(escalations.decidedAt))
    .limit(limit);
  return rows.map((r) => r.id);
}

/**
 * Pending, with a channel, and no card recorded since before `olderThan`: a
 * card job lost between the row's commit and its enqueue (`POST
 * /api/authorize` in a process that died). Cards given up for good
 * (`card_post_failed`) are left to their deadline.
 */
export async function findCardless(db: DbOrTx, olderThan: Date, limit = 500): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(await db.execute(sql`
    select e.id from escalations e
    where e.status = 'pending' and e.card_state not in ('posted', 'digest') and e.channel is not null and e.created_at < ${olderThan.toISOString()}::timestamptz
      and not exists (select 1 from events v where v.escalation_id = e.id and v.type = 'card_post_failed')
    order by e.created_at limit ${limit}`));
  return rows.map((r) => r.id);
}

/**
 * Decided before `decidedBefore` while their card's state is unknown (`posting`
 * without a ts, left by a crash around the post): their card may still show live
 * buttons. Only rows created since `createdSince`: card_state is in no index
 * (so the card update stays HOT, see drizzle/0015), and this bound lets the
 * status and created_at index do the scan.
 */
export async function findCardUnknown(db: DbOrTx, decidedBefore: Date, createdSince: Date, limit = 500): Promise<string[]> {
  const rows = await db
    .select({ id: escalations.id })
    .from(escalations)
    .where(
      and(
        inArray(escalations.status, ['approved', 'denied', 'expired', 'allowed']),
        gt(escalations.createdAt, createdSince),
        eq(escalations.cardState, 'posting'),
        isNull(escalations.cardTs),
        lt(escalations.decidedAt, decidedBefore),
      ),
    )
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Pending past their deadline, e.g. a lost delayed job: the expiry sweep. */
export async function findOverdue(db: DbOrTx, now: Date, limit = 500): Promise<string[]> {
  const rows = await db
    .select({ id: escalations.id })
    .from(escalations)
    .where(and(eq(escalations.status, 'pending'), lt(escalations.deadline, now)))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** The execution id of an escalation, for binding it to log lines (one primary-key read). */
export async function executionIdOf(db: DbOrTx, id: string): Promise<string | undefined> {
  const q = prepared(db, 'executionIdById', () =>
    db.select({ executionId: escalations.executionId }).from(escalations).where(eq(escalations.id, sql.placeholder('id'))).limit(1).prepare('execution_id_by_id'),
  );
  const rows = await q.execute({ id });
  return rows[0]?.executionId ?? undefined;
}
