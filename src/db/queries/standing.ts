import { and, asc, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { QueryBuilder } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../client.js';
import { standingApprovals, type NewStandingApprovalRow, type StandingApprovalRow } from '../schema/standing-approvals.js';
import { standingApprovalUses } from '../schema/standing-approval-uses.js';
import { eventParams, eventsAfter, type EventInput } from './events.js';
import { rowsOf } from './agent-modes.js';
import { prepared } from './prepared.js';

export async function insertStanding(db: DbOrTx, row: NewStandingApprovalRow): Promise<StandingApprovalRow | undefined> {
  const rows = await db.insert(standingApprovals).values(row).onConflictDoNothing({ target: standingApprovals.createdFrom }).returning();
  return rows[0];
}

export async function getStanding(db: DbOrTx, id: string): Promise<StandingApprovalRow | undefined> {
  const rows = await db.select().from(standingApprovals).where(eq(standingApprovals.id, id)).limit(1);
  return rows[0];
}

/** A candidate for a request, with this escalation's own earlier use of it, if any (a retried intake). */
export type StandingCandidate = StandingApprovalRow & { prior: { useNumber: number; digest: string } | null };

/**
 * The agent's standing approvals for one action that could still cover a
 * request at `now`, and any it already used for this escalation id (even if
 * since used up, expired or revoked: a retry keeps its use). One round trip.
 */
export async function standingCandidates(db: DbOrTx, q: { agentId: string; actionType: string; escalationId: string; now: Date }): Promise<StandingCandidate[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await db.execute(sql`
      select s.*, u.use_number as prior_use, u.digest as prior_digest
      from standing_approvals s
      left join standing_approval_uses u on u.escalation_id = ${q.escalationId}::uuid and u.standing_id = s.id
      where s.agent_id = ${q.agentId} and s.action_type = ${q.actionType}
        and (u.escalation_id is not null
          or (s.revoked_at is null and s.expires_at > ${q.now.toISOString()}::timestamptz and s.used_count < s.max_count))
      order by (u.escalation_id is null), s.expires_at
      limit 50`),
  );
  return rows.map((r) => ({
    id: String(r.id),
    agentId: String(r.agent_id),
    actionType: String(r.action_type),
    route: String(r.route),
    grantedBy: String(r.granted_by),
    grantedVia: String(r.granted_via),
    createdFrom: String(r.created_from),
    bounds: (typeof r.bounds === 'string' ? JSON.parse(r.bounds) : r.bounds) as StandingApprovalRow['bounds'],
    createdAt: new Date(r.created_at as string),
    expiresAt: new Date(r.expires_at as string),
    maxCount: Number(r.max_count),
    usedCount: Number(r.used_count),
    maxSpendMicros: r.max_spend_micros === null ? null : Number(r.max_spend_micros),
    spentMicros: Number(r.spent_micros),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at as string),
    revokedBy: r.revoked_by === null ? null : String(r.revoked_by),
    prior: r.prior_use === null || r.prior_use === undefined ? null : { useNumber: Number(r.prior_use), digest: String(r.prior_digest) },
  }));
}

/**
 * How long one process reuses an agent's candidates for one action without
 * looking again (ms). The claim's guard still checks revocation, expiry and
 * both limits against the committed row, so reuse can never let a revoked or
 * used-up approval cover a request; only a new grant waits up to this long to
 * be seen here (the request goes to a person meanwhile). Granting and revoking
 * in this process forget the entry at once.
 */
export const CANDIDATES_TTL_MS = 1_000;
/** Agent-and-action entries kept per process; past it, all are dropped (each costs one read to refill). */
const MAX_ENTRIES = 10_000;
const NO_ESCALATION = '00000000-0000-0000-0000-000000000000';
interface Entry {
  db: DbOrTx;
  /** When the read was started, on the flow's clock (ms). */
  at: number;
  rows: Promise<StandingCandidate[]>;
  /** Set once `rows` has resolved. */
  settled?: StandingCandidate[];
}
const reused = new Map<string, Entry>();
const keyOf = (agentId: string, actionType: string) => `${agentId}\u0000${actionType}`;

/**
 * The candidates to try now, and, when those are an older read's, the fresh
 * read to fall back on if none of them can be claimed.
 */
export interface Candidates {
  rows: Promise<StandingCandidate[]>;
  fresh?: Promise<StandingCandidate[]>;
}

/**
 * standingCandidates without this escalation's own earlier use (none for a
 * first try; a retry finds it when its claim answers `duplicate`), reused for
 * CANDIDATES_TTL_MS: a burst of covered requests costs one read, not one each.
 *
 * Past that, an entry that held candidates is still tried first while a fresh
 * read replaces it (`fresh`): a covered request then never waits on the read
 * (it would, once a second per agent and action: on every request of an agent
 * that asks less often than that). Trying an older list is safe because the claim checks
 * the committed row, and complete because a request none of them covers waits
 * for `fresh` and tries again, so a grant made since is still found. An entry
 * that held none is read again first: nothing to try.
 */
export function liveCandidates(db: DbOrTx, q: { agentId: string; actionType: string; now: Date }): Candidates {
  const key = keyOf(q.agentId, q.actionType);
  const at = q.now.getTime();
  const hit = reused.get(key);
  if (hit && hit.db === db && at - hit.at < CANDIDATES_TTL_MS && at >= hit.at) return { rows: hit.rows };
  const entry: Entry = { db, at, rows: standingCandidates(db, { ...q, escalationId: NO_ESCALATION }) };
  if (reused.size >= MAX_ENTRIES) reused.clear();
  reused.set(key, entry);
  entry.rows.then(
    (rows) => void (entry.settled = rows),
    () => reused.get(key) === entry && reused.delete(key),
  );
  const older = hit?.db === db ? hit.settled : undefined;
  return older?.length ? { rows: Promise.resolve(older), fresh: entry.rows } : { rows: entry.rows };
}

/**
 * Whether this process has lately read candidates for the agent's action (read
 * and not empty): a claim started before the policy asks for one
 * (src/flow/standing.ts) is tried only then, so it costs nothing, not even a
 * read, to an agent without any.
 */
export function candidatesCached(db: DbOrTx, agentId: string, actionType: string): boolean {
  const hit = reused.get(keyOf(agentId, actionType));
  return hit?.db === db && (hit.settled?.length ?? 0) > 0;
}

/** Drops the reused candidates of an agent's action: a grant or revoke in this process is seen at once. */
export function forgetCandidates(agentId: string, actionType: string): void {
  reused.delete(keyOf(agentId, actionType));
}

export interface StandingClaim {
  standingId: string;
  escalationId: string;
  digest: string;
  spendMicros: number;
  now: Date;
}

export type ClaimResult = { kind: 'claimed'; useNumber: number; usedCount: number; spentMicros: number } | { kind: 'refused' } | { kind: 'duplicate' };

const qb = new QueryBuilder();
const ph = (name: string) => sql.placeholder(name);

/**
 * Claims one use, guarded: only while not revoked, not expired, a use left
 * and the spend within its limit, in one statement with the use's record.
 * Concurrent claims serialise on the row, and each re-checks the guard
 * against the committed count: the limit is never passed. `duplicate`: this
 * escalation id already holds a use (a concurrent retry of the same request).
 * Its `standing_used` event is recorded with the escalation (intake.ts), not
 * here: the row's lock, which every claim on it waits for, is held for less.
 */
export async function claimStandingUse(db: DbOrTx, c: StandingClaim): Promise<ClaimResult> {
  // Built once per handle (prepared.ts): building it took as long as its round trip.
  const statement = prepared(db, 'claimStandingUse', () => {
    const upd = qb.$with('upd', { id: sql<string>`id`.as('id'), usedCount: sql<number>`used_count`.as('used_count'), spentMicros: sql<number>`spent_micros`.as('spent_micros') }).as(
      sql`update ${standingApprovals} set used_count = used_count + 1, spent_micros = spent_micros + ${ph('spend')}::bigint
        where id = ${ph('id')}::uuid and revoked_at is null and expires_at > ${ph('now')}::timestamptz and used_count < max_count
          and (max_spend_micros is null or spent_micros + ${ph('spend')}::bigint <= max_spend_micros)
        returning id, used_count, spent_micros`,
    );
    const ins = qb.$with('ins', { escalationId: sql<string>`escalation_id`.as('escalation_id') }).as(
      sql`insert into ${standingApprovalUses} (escalation_id, standing_id, digest, use_number, spend_micros, at)
        select ${ph('escalation')}::uuid, upd.id, ${ph('digest')}::text, upd.used_count, ${ph('spend')}::bigint, ${ph('now')}::timestamptz from upd
        returning escalation_id`,
    );
    return (
      db
        .with(upd, ins)
        // The claim's commit need not wait for its WAL flush: the escalation's own (synchronous) commit follows
        // before any answer and flushes the WAL past this one, so a crash loses the claim only with its escalation,
        // and a retry claims again. Meanwhile the row's lock, which serialises concurrent claims, is held for less.
        .select({ usedCount: upd.usedCount, spentMicros: upd.spentMicros, used: sql<number>`(select count(*) from ins)`, async: sql<string>`set_config('synchronous_commit', 'off', true)` })
        .from(upd)
        .prepare('claim_standing_use_v2')
    );
  });
  try {
    const rows = await statement.execute({
      id: c.standingId,
      escalation: c.escalationId,
      digest: c.digest,
      spend: c.spendMicros,
      now: c.now.toISOString(),
    });
    const row = rows[0];
    if (!row) return { kind: 'refused' };
    return { kind: 'claimed', useNumber: Number(row.usedCount), usedCount: Number(row.usedCount), spentMicros: Number(row.spentMicros) };
  } catch (err) {
    if ((err as { code?: string }).code === '23505' || (err as { cause?: { code?: string } }).cause?.code === '23505') return { kind: 'duplicate' };
    throw err;
  }
}

/**
 * Gives a use back: the request it was claimed for was then refused by a
 * budget cap, so it never ran. Guarded on the use's row: once only.
 */
export async function releaseStandingUse(db: DbOrTx, escalationId: string): Promise<void> {
  await db.execute(sql`
    with del as (delete from ${standingApprovalUses} where escalation_id = ${escalationId}::uuid returning standing_id, spend_micros)
    update ${standingApprovals} s set used_count = s.used_count - 1, spent_micros = s.spent_micros - del.spend_micros
    from del where s.id = del.standing_id`);
}

/** Revokes, guarded on `revoked_at is null`, with its event in the same statement; undefined: already revoked (or unknown). */
export async function revokeStandingRecorded(db: DbOrTx, r: { id: string; by: string; at: Date }, event: EventInput): Promise<StandingApprovalRow | undefined> {
  const upd = db.$with('upd').as(
    db
      .update(standingApprovals)
      .set({ revokedAt: sql`${ph('at')}::timestamptz`, revokedBy: sql`${ph('by')}::text` })
      .where(and(eq(standingApprovals.id, sql`${ph('id')}::uuid`), isNull(standingApprovals.revokedAt)))
      .returning(),
  );
  const rows = await db
    .with(upd, eventsAfter('ev', upd, 1))
    .select()
    .from(upd)
    .prepare('revoke_standing_recorded')
    .execute({ id: r.id, by: r.by, at: r.at.toISOString(), ...eventParams([event]) });
  return rows[0] as StandingApprovalRow | undefined;
}

/** Not revoked and not expired at `now` (used up ones included, marked by their counts), soonest to expire first. */
export async function liveStanding(db: DbOrTx, now: Date, limit = 40): Promise<StandingApprovalRow[]> {
  return db
    .select()
    .from(standingApprovals)
    .where(and(isNull(standingApprovals.revokedAt), gt(standingApprovals.expiresAt, now)))
    .orderBy(asc(standingApprovals.expiresAt), desc(standingApprovals.createdAt))
    .limit(limit);
}

/** The standing approval an escalation was granted with, or used, for `explain`. */
export async function standingOfEscalation(db: DbOrTx, escalationId: string): Promise<StandingApprovalRow | undefined> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(sql`
      select id from standing_approvals where created_from = ${escalationId}::uuid
      union all select standing_id from standing_approval_uses where escalation_id = ${escalationId}::uuid
      limit 1`),
  );
  return rows[0] ? getStanding(db, rows[0].id) : undefined;
}
