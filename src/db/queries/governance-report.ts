import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { recordRows, totalsByAgent } from './agent-record.js';

function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** One agent's month, as the governance report shows it. Times in seconds, money in micro-dollars. */
export interface AgentMonthFigures {
  agentId: string;
  /** Requests the agent made (every escalation but invalid ones). */
  requests: number;
  /** Actions and errors in the month, counted by `recordRows`, as every error rate is (see `RecordCounts`). */
  actions: number;
  errors: number;
  spendMicros: number;
  /** The agent's costliest day in the report's time zone. */
  peakDayMicros: number;
  /** Requests that reached a person, by tier, by trigger kind and by the policy rule that decided the tier. */
  byTier: Record<string, number>;
  byTrigger: Record<string, { count: number; approved: number }>;
  byRule: Record<string, { count: number; approved: number }>;
  /** Creation → human decision, over decisions people made. */
  decisions: number;
  p50Sec: number | null;
  p90Sec: number | null;
  /** `mode_*` events (promotions, demotions, proposals) by type. */
  modeEvents: Record<string, number>;
}

/**
 * Every figure of the monthly report for [from, to), per agent, in a few
 * grouped scans. "Reached a person": a card was posted for approval or
 * review (pending, approved, expired, human-denied, or supervised).
 */
export async function governanceFigures(db: DbOrTx, from: Date, to: Date, tz: string): Promise<AgentMonthFigures[]> {
  const f = from.toISOString();
  const t = to.toISOString();
  const inWindow = sql`e.created_at >= ${f}::timestamptz and e.created_at < ${t}::timestamptz and e.agent_id is not null and e.status <> 'rejected'`;
  const human = sql`(e.status in ('pending','approved','expired') or (e.status = 'denied' and e.decided_by ~ '^[UW]') or e.review_state <> 'none')`;
  const main = rowsOf<{ agent_id: string; requests: number; decisions: number; p50: number | null; p90: number | null }>(
    await db.execute(sql`
      with x as (
        select e.id, e.agent_id, e.status, e.decided_by, e.created_at, e.decided_at
        from escalations e where ${inWindow}
      )
      select agent_id,
        count(*)::int as requests,
        count(*) filter (where status in ('approved','denied') and decided_by ~ '^[UW]')::int as decisions,
        percentile_cont(0.5) within group (order by extract(epoch from decided_at - created_at))
          filter (where status in ('approved','denied') and decided_by ~ '^[UW]') as p50,
        percentile_cont(0.9) within group (order by extract(epoch from decided_at - created_at))
          filter (where status in ('approved','denied') and decided_by ~ '^[UW]') as p90
      from x group by agent_id order by agent_id`),
  );
  const tiers = rowsOf<{ agent_id: string; k: string; n: number }>(
    await db.execute(sql`select e.agent_id, coalesce(e.tier, 'none') as k, count(*)::int as n from escalations e
      where ${inWindow} and ${human} group by 1, 2`),
  );
  const triggers = rowsOf<{ agent_id: string; k: string; n: number; approved: number }>(
    await db.execute(sql`select e.agent_id, tr->>'kind' as k, count(*)::int as n, count(*) filter (where e.status = 'approved')::int as approved
      from escalations e cross join lateral jsonb_array_elements(case when jsonb_typeof(e.triggers) = 'array' then e.triggers else '[]'::jsonb end) tr
      where ${inWindow} and ${human} group by 1, 2`),
  );
  const rules = rowsOf<{ agent_id: string; k: string; n: number; approved: number }>(
    await db.execute(sql`select e.agent_id, e.policy_rule as k, count(*)::int as n, count(*) filter (where e.status = 'approved')::int as approved
      from escalations e where ${inWindow} and ${human} and e.policy_rule is not null and e.tier = 'restricted' group by 1, 2`),
  );
  const spend = rowsOf<{ agent_id: string; total: string; peak: string }>(
    await db.execute(sql`select agent_id, sum(s)::bigint as total, max(s)::bigint as peak from (
        select agent_id, (at at time zone ${tz})::date as d, sum(usd_micros) as s from spend_ledger
        where at >= ${f}::timestamptz and at < ${t}::timestamptz group by 1, 2) days group by agent_id`),
  );
  const modes = rowsOf<{ agent_id: string; k: string; n: number }>(
    await db.execute(sql`select coalesce(data->>'agentId', data->>'agent') as agent_id, type as k, count(*)::int as n from events
      where type like 'mode\\_%' and at >= ${f}::timestamptz and at < ${t}::timestamptz group by 1, 2`),
  );
  const byAgent = new Map<string, AgentMonthFigures>();
  const get = (id: string) => {
    let a = byAgent.get(id);
    if (!a) {
      a = { agentId: id, requests: 0, actions: 0, errors: 0, spendMicros: 0, peakDayMicros: 0, byTier: {}, byTrigger: {}, byRule: {}, decisions: 0, p50Sec: null, p90Sec: null, modeEvents: {} };
      byAgent.set(id, a);
    }
    return a;
  };
  for (const r of main) {
    Object.assign(get(r.agent_id), {
      requests: Number(r.requests), decisions: Number(r.decisions),
      p50Sec: r.p50 === null ? null : Number(r.p50), p90Sec: r.p90 === null ? null : Number(r.p90),
    });
  }
  for (const [agentId, r] of totalsByAgent(await recordRows(db, { from, to }))) Object.assign(get(agentId), { actions: r.actions, errors: r.errors });
  for (const r of tiers) get(r.agent_id).byTier[r.k] = Number(r.n);
  for (const r of triggers) get(r.agent_id).byTrigger[r.k] = { count: Number(r.n), approved: Number(r.approved) };
  for (const r of rules) get(r.agent_id).byRule[r.k] = { count: Number(r.n), approved: Number(r.approved) };
  for (const r of spend) Object.assign(get(r.agent_id), { spendMicros: Number(r.total), peakDayMicros: Number(r.peak) });
  for (const r of modes) if (r.agent_id) get(r.agent_id).modeEvents[r.k] = Number(r.n);
  return [...byAgent.values()].sort((a, b) => a.agentId.localeCompare(b.agentId));
}
