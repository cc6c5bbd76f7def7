import { and, asc, count, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { reviewSamples, type ReviewSampleRow } from '../schema/review-samples.js';
import { reviewSampleItems, type ReviewSampleItemRow } from '../schema/review-sample-items.js';
import type { EventInput } from './events.js';
import { recordEvents } from './events.js';

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** Longest an escalation can wait for a decision (the config's max deadline, 30 days) plus a day: bounds the scan by created_at. */
const MAX_PENDING = '31 days';

/**
 * The population of a batch review: actions that were cleared to run
 * (status approved or allowed) at a time in [from, to), by decision time,
 * whether or not the agent reported an outcome (reporting is optional in the
 * agent contract; leaving unreported actions out would let an agent that
 * never reports escape review). Ordered by escalation id so positions are stable.
 */
function populationSql(w: { agentId: string | null; from: Date; to: Date }) {
  return sql`select e.id, e.agent_id, e.action_type, row_number() over (order by e.id) - 1 as pos
    from escalations e
    where e.status in ('approved', 'allowed') and e.agent_id is not null and e.action_type is not null
      and coalesce(e.decided_at, e.created_at) >= ${w.from.toISOString()}::timestamptz
      and coalesce(e.decided_at, e.created_at) < ${w.to.toISOString()}::timestamptz
      and e.created_at >= ${w.from.toISOString()}::timestamptz - ${MAX_PENDING}::interval
      and e.created_at < ${w.to.toISOString()}::timestamptz
      ${w.agentId === null ? sql`` : sql`and e.agent_id = ${w.agentId}`}`;
}

export interface DrawnAction {
  escalationId: string;
  agentId: string;
  actionType: string;
}

/**
 * Counts the window, lets `choose` pick positions, and fetches those rows,
 * in one repeatable-read snapshot so the count and the rows agree.
 */
export async function drawFromWindow(
  db: DbOrTx,
  w: { agentId: string | null; from: Date; to: Date },
  choose: (population: number) => number[],
): Promise<{ population: number; drawn: DrawnAction[] }> {
  const run = async (tx: DbOrTx) => {
    const [c] = rowsOf<{ n: number }>(await tx.execute(sql`select count(*)::int as n from (${populationSql(w)}) p`));
    const population = Number(c?.n ?? 0);
    const positions = choose(population);
    if (positions.length === 0) return { population, drawn: [] };
    const rows = rowsOf<{ id: string; agent_id: string; action_type: string; pos: string | number }>(
      await tx.execute(
        sql`select id, agent_id, action_type, pos from (${populationSql(w)}) p where pos = any(${`{${positions.join(',')}}`}::bigint[]) order by pos`,
      ),
    );
    return { population, drawn: rows.map((r) => ({ escalationId: r.id, agentId: r.agent_id, actionType: r.action_type })) };
  };
  return (db as { transaction: (fn: (tx: DbOrTx) => Promise<unknown>, cfg?: object) => Promise<unknown> }).transaction(
    run,
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  ) as ReturnType<typeof run>;
}

export type NewSample = typeof reviewSamples.$inferInsert;

/** The sample, its items and its audit event together; a scheduled run's `runKey` makes a repeat a no-op (returns undefined). */
export async function insertSample(db: DbOrTx, sample: NewSample, items: DrawnAction[], event: EventInput): Promise<ReviewSampleRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(reviewSamples).values(sample).onConflictDoNothing().returning();
    if (!row) return undefined;
    if (items.length > 0) {
      await tx.insert(reviewSampleItems).values(items.map((it, position) => ({ sampleId: row.id, position, ...it })));
    }
    await recordEvents(tx, [event]);
    return row;
  });
}

export async function getSample(db: DbOrTx, id: string): Promise<ReviewSampleRow | undefined> {
  const [row] = await db.select().from(reviewSamples).where(eq(reviewSamples.id, id));
  return row;
}

export async function sampleByRunKey(db: DbOrTx, runKey: string): Promise<ReviewSampleRow | undefined> {
  const [row] = await db.select().from(reviewSamples).where(eq(reviewSamples.runKey, runKey));
  return row;
}

export async function getItem(db: DbOrTx, sampleId: string, escalationId: string): Promise<ReviewSampleItemRow | undefined> {
  const [row] = await db
    .select()
    .from(reviewSampleItems)
    .where(and(eq(reviewSampleItems.sampleId, sampleId), eq(reviewSampleItems.escalationId, escalationId)));
  return row;
}

/** Items whose card is not posted yet, in draw order. */
export async function unpostedItems(db: DbOrTx, sampleId: string): Promise<ReviewSampleItemRow[]> {
  return db
    .select()
    .from(reviewSampleItems)
    .where(and(eq(reviewSampleItems.sampleId, sampleId), isNull(reviewSampleItems.cardTs)))
    .orderBy(asc(reviewSampleItems.position));
}

export async function setItemCard(db: DbOrTx, sampleId: string, escalationId: string, channel: string, ts: string): Promise<void> {
  await db
    .update(reviewSampleItems)
    .set({ cardChannel: channel, cardTs: ts })
    .where(and(eq(reviewSampleItems.sampleId, sampleId), eq(reviewSampleItems.escalationId, escalationId)));
}

export async function setProgressMessage(db: DbOrTx, sampleId: string, channel: string, ts: string): Promise<void> {
  await db.update(reviewSamples).set({ channel, progressTs: ts }).where(and(eq(reviewSamples.id, sampleId), isNull(reviewSamples.progressTs)));
}

/** Records a verdict once: the first wins; the audit event commits with it or not at all. */
export async function recordVerdict(
  db: DbOrTx,
  v: { sampleId: string; escalationId: string; verdict: 'correct' | 'incorrect'; note: string | null; by: string },
  event: EventInput,
): Promise<ReviewSampleItemRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(reviewSampleItems)
      .set({ verdict: v.verdict, note: v.note, reviewedBy: v.by, reviewedAt: sql`now()` })
      .where(and(eq(reviewSampleItems.sampleId, v.sampleId), eq(reviewSampleItems.escalationId, v.escalationId), isNull(reviewSampleItems.verdict)))
      .returning();
    if (!row) return undefined;
    await recordEvents(tx, [event]);
    return row;
  });
}

export interface SampleProgress {
  size: number;
  reviewed: number;
  incorrect: number;
}

export async function sampleProgress(db: DbOrTx, sampleId: string): Promise<SampleProgress> {
  const [r] = await db
    .select({
      size: count(),
      reviewed: sql<number>`count(${reviewSampleItems.verdict})::int`,
      incorrect: sql<number>`count(*) filter (where ${reviewSampleItems.verdict} = 'incorrect')::int`,
    })
    .from(reviewSampleItems)
    .where(eq(reviewSampleItems.sampleId, sampleId));
  return { size: Number(r?.size ?? 0), reviewed: Number(r?.reviewed ?? 0), incorrect: Number(r?.incorrect ?? 0) };
}

/** Marks the sample complete once every item has a verdict; only the first caller gets the row. */
export async function completeSample(db: DbOrTx, sampleId: string, event: (p: SampleProgress) => EventInput): Promise<ReviewSampleRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(reviewSamples)
      .set({ completedAt: sql`now()` })
      .where(
        and(
          eq(reviewSamples.id, sampleId),
          isNull(reviewSamples.completedAt),
          sql`not exists (select 1 from ${reviewSampleItems} i where i.sample_id = ${reviewSamples.id} and i.verdict is null)`,
        ),
      )
      .returning();
    if (!row) return undefined;
    await recordEvents(tx, [event(await sampleProgress(tx, sampleId))]);
    return row;
  });
}

export async function setSummaryTs(db: DbOrTx, sampleId: string, ts: string): Promise<boolean> {
  const rows = await db
    .update(reviewSamples)
    .set({ summaryTs: ts })
    .where(and(eq(reviewSamples.id, sampleId), isNull(reviewSamples.summaryTs)))
    .returning({ id: reviewSamples.id });
  return rows.length > 0;
}

/**
 * Samples still open that `userId` may work on: requested by them, or
 * scheduled ones when they approve on some route; with their progress.
 */
export async function openSamplesFor(db: DbOrTx, userId: string, includeScheduled: boolean, limit = 10): Promise<Array<ReviewSampleRow & SampleProgress>> {
  const rows = await db
    .select()
    .from(reviewSamples)
    .where(
      and(
        isNull(reviewSamples.completedAt),
        includeScheduled ? sql`(${reviewSamples.requestedBy} = ${userId} or ${reviewSamples.requestedBy} like 'schedule:%')` : eq(reviewSamples.requestedBy, userId),
      ),
    )
    .orderBy(sql`${reviewSamples.createdAt} desc`)
    .limit(limit);
  return Promise.all(rows.map(async (r) => ({ ...r, ...(await sampleProgress(db, r.id)) })));
}
