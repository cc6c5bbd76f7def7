import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { escalations, type EscalationRow } from '../schema/escalations.js';
import { events } from '../schema/events.js';
import { prepared } from './prepared.js';

/**
 * Whether the re-ping for the shift change at `handoffAt` (epoch ms) was
 * already sent: a job retried after a crash then pings nobody twice.
 */
export async function handoffRecorded(db: DbOrTx, escalationId: string, handoffAt: number): Promise<boolean> {
  const rows = await db
    .select({ one: sql`1` })
    .from(events)
    .where(and(eq(events.escalationId, escalationId), eq(events.type, 'chain_handoff'), sql`(${events.data} ->> 'handoffAt')::bigint = ${handoffAt}`))
    .limit(1);
  return rows.length > 0;
}

/** The highest chain step recorded for an escalation, or -1: a stale duplicate of an earlier step then stops. */
export async function lastChainStep(db: DbOrTx, escalationId: string): Promise<number> {
  const rows = await db
    .select({ step: sql<number | null>`max((${events.data} ->> 'step')::int)` })
    .from(events)
    .where(and(eq(events.escalationId, escalationId), eq(events.type, 'chain_step')));
  const step = rows[0]?.step;
  return step === null || step === undefined ? -1 : Number(step);
}

/** The highest chain step recorded and when it said the next one comes, or undefined before step 0 is recorded. */
export async function lastChainStepRecord(db: DbOrTx, escalationId: string): Promise<{ step: number; nextAt: Date } | undefined> {
  const rows = await db
    .select({ step: sql<number>`(${events.data} ->> 'step')::int`, nextAt: sql<string | null>`${events.data} ->> 'nextAt'` })
    .from(events)
    .where(and(eq(events.escalationId, escalationId), eq(events.type, 'chain_step')))
    .orderBy(sql`(${events.data} ->> 'step')::int desc`)
    .limit(1);
  const row = rows[0];
  if (!row) return undefined;
  const nextAt = row.nextAt ? new Date(row.nextAt) : new Date(0);
  return { step: Number(row.step), nextAt: Number.isNaN(nextAt.getTime()) ? new Date(0) : nextAt };
}

/**
 * Pending escalations whose card is posted, on these routes: the ones whose
 * chain or shift-end re-ping should have a job waiting. Oldest first, at most `limit`.
 */
export async function pendingPostedOnRoutes(db: DbOrTx, routes: readonly string[], limit = 500): Promise<EscalationRow[]> {
  if (routes.length === 0) return [];
  return db
    .select()
    .from(escalations)
    .where(and(eq(escalations.status, 'pending'), eq(escalations.cardState, 'posted'), inArray(escalations.route, [...routes])))
    .orderBy(asc(escalations.createdAt))
    .limit(limit);
}

/** A message sent to someone about an escalation while it waited: a DM or a ping in the card's thread. */
export interface SentPing {
  via: 'dm' | 'thread';
  channel: string;
  ts: string;
  /** Whom it was for (a DM's recipient). */
  user?: string;
}

/**
 * Every DM and thread ping sent for an escalation (chain steps, shift-end
 * re-pings, the urgent DM), in the order sent, and whether they were already
 * brought up to date after the outcome (`pings_resolved`), wholly or in part.
 */
export async function pingsSent(db: DbOrTx, escalationId: string): Promise<{ pings: SentPing[]; resolved: boolean; updated: Set<string> }> {
  // Read once per decision: built once per handle (prepared.ts).
  const read = prepared(db, 'pingsSent', () =>
    db
      .select({ type: events.type, data: events.data })
      .from(events)
      .where(and(eq(events.escalationId, sql.placeholder('id')), inArray(events.type, ['chain_step', 'chain_handoff', 'oncall_dm', 'pings_resolved'])))
      .orderBy(asc(events.id))
      .prepare('pings_sent'),
  );
  const rows = await read.execute({ id: escalationId });
  const pings: SentPing[] = [];
  let resolved = false;
  // `channel:ts` of messages already updated by an earlier, partial pass (one that met a 429).
  const updated = new Set<string>();
  for (const { type, data } of rows) {
    if (type === 'pings_resolved') {
      if (data.partial !== true) resolved = true;
      for (const u of (data.updated ?? []) as Array<{ channel: string; ts: string }>) updated.add(`${u.channel}:${u.ts}`);
    }
    else if (type === 'oncall_dm') pings.push({ via: 'dm', channel: String(data.channel), ts: String(data.ts), user: String(data.user) });
    else {
      for (const r of (data.reached ?? []) as Array<{ via: string; channel: string; ts: string; users?: string[] }>) {
        if ((r.via === 'dm' || r.via === 'thread') && r.channel && r.ts) pings.push({ via: r.via, channel: r.channel, ts: r.ts, ...(r.via === 'dm' && r.users?.[0] ? { user: r.users[0] } : {}) });
      }
    }
  }
  return { pings, resolved, updated };
}
