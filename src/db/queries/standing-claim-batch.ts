import type { DbOrTx } from '../client.js';
import { GroupStatement } from './group-statement.js';
import { runnerOf, type Run } from './runner.js';
import { claimStandingUse, type ClaimResult, type StandingClaim } from './standing.js';

/**
 * Group claims for `claimStandingUse`. Every use of one standing approval
 * updates its one row, so concurrent claims would queue on that row's lock in
 * Postgres, each a wake-up and a row version, and a backend descheduled while
 * holding it stalls all the others (the covered path's tail). Instead, one
 * claim statement per standing approval is in flight per process; claims
 * arriving meanwhile go together in the next one: one lock, one UPDATE, one
 * row version for all of them.
 *
 * The group statement keeps the single claim's guarantees. It locks the row
 * (`for update`, so it reads the committed counts), then grants the claims in
 * arrival order while a use is left and the spend fits: a prefix, since both
 * sums only grow. The counts are added in one UPDATE, each granted claim's use
 * row numbered after the ones before it. A claim the group did not grant is
 * tried again on its own (a smaller spend may still fit after a larger one was
 * cut off), so each caller gets what its own statement would have given it.
 * An escalation id that already holds a use fails the group (its primary
 * key), and GroupStatement then runs each claim on its own: that one answers
 * `duplicate`. The table's checks stay the last line: never past a limit.
 */
const CLAIM_MANY = `
  with req as (
    select r.escalation_id, r.digest, r.spend, r.at, r.ord
    from jsonb_to_recordset($1::jsonb) as r (escalation_id uuid, digest text, spend bigint, at timestamptz, ord int)
  ), s as (
    select id, used_count, max_count, spent_micros, max_spend_micros, expires_at
    from standing_approvals where id = $2::uuid and revoked_at is null
    for update
  ), cand as (
    select req.*, row_number() over (order by req.ord) as n, sum(req.spend) over (order by req.ord) as cum
    from req, s where req.at < s.expires_at
  ), ok as (
    select cand.* from cand, s
    where s.used_count + cand.n <= s.max_count
      and (s.max_spend_micros is null or s.spent_micros + cand.cum <= s.max_spend_micros)
  ), upd as (
    update standing_approvals t
    set used_count = t.used_count + (select count(*) from ok), spent_micros = t.spent_micros + (select coalesce(sum(spend), 0) from ok)
    from s where t.id = s.id and exists (select 1 from ok)
    returning t.id
  ), ins as (
    insert into standing_approval_uses (escalation_id, standing_id, digest, use_number, spend_micros, at)
    select ok.escalation_id, s.id, ok.digest, s.used_count + ok.n, ok.spend, ok.at from ok, s
    returning escalation_id
  )
  select ok.escalation_id, s.used_count + ok.n as use_number, s.spent_micros + ok.cum as spent_micros,
    (select count(*) from upd) as updated, (select count(*) from ins) as inserted,
    set_config('synchronous_commit', 'off', true) as async
  from ok, s`;

type Claim = Omit<StandingClaim, 'standingId'>;

function groupFor(db: DbOrTx, run: Run, standingId: string): GroupStatement<Claim, ClaimResult> {
  return new GroupStatement<Claim, ClaimResult>({
    runMany: async (claims) => {
      const req = JSON.stringify(claims.map((c, ord) => ({ escalation_id: c.escalationId, digest: c.digest, spend: c.spendMicros, at: c.now.toISOString(), ord })));
      // The commit need not wait for its WAL flush: see claimStandingUse.
      const rows = await run(CLAIM_MANY, [req, standingId]);
      const granted = new Map<string, ClaimResult>(
        rows.map((r) => [String(r.escalation_id), { kind: 'claimed', useNumber: Number(r.use_number), usedCount: Number(r.use_number), spentMicros: Number(r.spent_micros) }]),
      );
      // Refused in a group: asked again alone, as its own statement would have been.
      const alone = claims.length > 1 ? claims.filter((c) => !granted.has(c.escalationId)) : [];
      for (const c of alone) granted.set(c.escalationId, await claimStandingUse(db, { ...c, standingId }));
      return granted;
    },
    runOne: (c) => claimStandingUse(db, { ...c, standingId }),
    repeatKeys: false,
    missing: { kind: 'refused' },
    loneViaMany: false,
    maxInFlight: 1,
  });
}

/** Standing approvals with a group kept per database handle. */
const MAX_GROUPS = 1_024;
const groups = new WeakMap<object, Map<string, GroupStatement<Claim, ClaimResult>>>();

/** `claimStandingUse`, grouped per standing approval with this process's concurrent claims on it (see above). */
export function claimStandingUseGrouped(db: DbOrTx, c: StandingClaim): Promise<ClaimResult> {
  const run = runnerOf(db);
  if (!run) return claimStandingUse(db, c);
  let byId = groups.get(db);
  if (!byId) groups.set(db, (byId = new Map()));
  let group = byId.get(c.standingId);
  if (!group) {
    // Bounded: a group dropped while in flight only lets one more statement run beside it (still guarded).
    if (byId.size >= MAX_GROUPS) byId.clear();
    byId.set(c.standingId, (group = groupFor(db, run, c.standingId)));
  }
  const { standingId: _id, ...claim } = c;
  return group.add(c.escalationId, claim);
}
