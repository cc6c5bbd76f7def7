import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations } from '../schema/escalations.js';
import { events, type EventRow } from '../schema/events.js';
import { rowsOf } from './agent-modes.js';
import type { EventInput } from './events.js';

/**
 * A hand-off's event, recorded only while the escalation is pending: one
 * INSERT … SELECT guarded on `status = 'pending'`, so a snooze or reassign
 * that races a decision records nothing once the decision committed.
 * False: it was decided (or expired) first.
 */
export async function recordIfPending(db: DbOrTx, e: EventInput & { escalationId: string }): Promise<boolean> {
  const rows = rowsOf(
    await db.execute(sql`insert into ${events} (escalation_id, execution_id, type, actor, data)
      select ${e.escalationId}::uuid, ${e.executionId ?? null}::text, ${e.type}::text, ${e.actor}::text, ${JSON.stringify(e.data ?? {})}::jsonb
      where exists (select 1 from ${escalations} where ${escalations.id} = ${e.escalationId}::uuid and ${escalations.status} = 'pending')
      returning id`),
  );
  return rows.length > 0;
}

/** What a pending card is rebuilt from: who it paged when posted, and its hand-offs, in order. */
export async function cardEvents(db: DbOrTx, escalationId: string): Promise<Array<Pick<EventRow, 'type' | 'actor' | 'at' | 'data'>>> {
  return db
    .select({ type: events.type, actor: events.actor, at: events.at, data: events.data })
    .from(events)
    .where(and(eq(events.escalationId, escalationId), inArray(events.type, ['card_posted', 'paged', 'snoozed', 'reassigned'])))
    .orderBy(asc(events.id));
}

/** Whether the re-ping for `snoozedBy`'s snooze until `until` (ISO) was already sent: a retried job pings nobody twice. */
export async function snoozeRepinged(db: DbOrTx, escalationId: string, snoozedBy: string, until: string): Promise<boolean> {
  const rows = await db
    .select({ one: sql`1` })
    .from(events)
    .where(
      and(
        eq(events.escalationId, escalationId),
        eq(events.type, 'oncall_dm'),
        sql`${events.data} ->> 'cause' = 'snooze' and ${events.data} ->> 'snoozedBy' = ${snoozedBy} and ${events.data} ->> 'snoozedUntil' = ${until}`,
      ),
    )
    .limit(1);
  return rows.length > 0;
}

/** `user`'s latest snooze of this escalation (ISO end), if any: an earlier snooze's re-ping gives way to it. */
export async function latestSnooze(db: DbOrTx, escalationId: string, user: string): Promise<string | undefined> {
  const rows = await db
    .select({ until: sql<string>`${events.data} ->> 'until'` })
    .from(events)
    .where(and(eq(events.escalationId, escalationId), eq(events.type, 'snoozed'), sql`${events.data} ->> 'user' = ${user}`))
    .orderBy(sql`${events.id} desc`)
    .limit(1);
  return rows[0]?.until;
}

/**
 * The snoozes whose re-ping is still owed: each person's latest snooze of
 * each pending escalation, without its re-ping recorded. After Redis lost
 * their delayed jobs (src/flow/rebuild.ts), each is scheduled again at its end.
 */
export async function snoozesOwed(db: DbOrTx, limit = 5000): Promise<Array<{ escalationId: string; user: string; until: Date }>> {
  const rows = rowsOf<{ escalation_id: string; user: string; until: string }>(
    await db.execute(sql`
      select distinct on (s.escalation_id, s.data ->> 'user') s.escalation_id, s.data ->> 'user' as "user", s.data ->> 'until' as until
      from ${escalations} e join ${events} s on s.escalation_id = e.id and s.type = 'snoozed'
      where e.status = 'pending'
      order by s.escalation_id, s.data ->> 'user', s.id desc
      limit ${limit}`),
  );
  const owed: Array<{ escalationId: string; user: string; until: Date }> = [];
  for (const r of rows) {
    if (!(await snoozeRepinged(db, r.escalation_id, r.user, r.until))) owed.push({ escalationId: r.escalation_id, user: r.user, until: new Date(r.until) });
  }
  return owed;
}
