import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';
import { agentMode, modeRank, type Mode } from '../../domain/modes.js';
import { errorRateOf, type RecordCounts } from '../../domain/promotion.js';
import type { Policy } from '../../domain/policy/schema.js';
import { rowsOf, storedModeRows } from './agent-modes.js';

/** An agent's record, with each source of error counted on its own. */
export interface RecordBreakdown extends RecordCounts {
  /** Denied, by a person or by policy (budget pauses and expiries are not the agent's errors). */
  denials: number;
  /** Supervised actions a reviewer marked wrong. */
  reversals: number;
  /** Batch-review verdicts "incorrect". */
  incorrect: number;
  /** Failed outcome reports. */
  failures: number;
}

export interface AgentRecord {
  agentId: string;
  /** Counted from here; null: from the first action. */
  since: Date | null;
  total: RecordBreakdown;
  byAction: Array<RecordBreakdown & { actionType: string }>;
}

const ZERO: RecordBreakdown = { actions: 0, errors: 0, denials: 0, reversals: 0, incorrect: 0, failures: 0 };

interface Row {
  agent_id: string;
  action_type: string;
  actions: number;
  errors: number;
  denials: number;
  reversals: number;
  incorrect: number;
  failures: number;
}

export interface RecordWindow {
  /** Null or absent: every agent. */
  agentId?: string | null;
  /** Counted from here (inclusive); null: from the first action. */
  from?: Date | null;
  /** Up to here (exclusive); null: until now. */
  to?: Date | null;
  actionType?: string | null;
}

/**
 * The one count of actions and errors behind every error rate (promotion,
 * `/countersign agent`, App Home, the monthly report; the definition is on
 * `RecordCounts` in domain/promotion.ts), per agent and action type, over
 * [from, to). Every decided escalation (allowed, approved, denied; not
 * expired, not refused for budget) is an action, and it is an error when it
 * was denied, reversed in supervised review, judged incorrect in batch
 * review, or its outcome failed, counted once however many of these apply.
 * Outcome reports not tied to an escalation count as actions of their own.
 * One aggregate (one round trip), served by the indexes on (agent_id,
 * created_at), outcomes (escalation_id, …) and (agent_id, at), and
 * review_sample_items (escalation_id).
 */
export async function recordRows(db: DbOrTx, w: RecordWindow): Promise<Array<RecordBreakdown & { agentId: string; actionType: string }>> {
  const agentId = w.agentId ?? null;
  const from = w.from?.toISOString() ?? null;
  const to = w.to?.toISOString() ?? null;
  const action = w.actionType ?? null;
  const rows = rowsOf<Row>(
    await db.execute(sql`
      with x as (
        select e.id, e.agent_id, e.action_type, e.status = 'denied' as denied, e.review_state = 'wrong' as reversed
        from escalations e
        where e.agent_id is not null
          and (${agentId}::text is null or e.agent_id = ${agentId}::text)
          and e.status in ('allowed', 'approved', 'denied')
          and coalesce(e.decision_code, '') <> 'budget_paused'
          and (${from}::timestamptz is null or e.created_at >= ${from}::timestamptz)
          and (${to}::timestamptz is null or e.created_at < ${to}::timestamptz)
          and (${action}::text is null or e.action_type = ${action}::text)
      ),
      f as (
        select o.escalation_id, bool_or(not o.success) as failed
        from outcomes o
        join x on x.id = o.escalation_id
        group by o.escalation_id
      ),
      s as (
        select i.escalation_id, bool_or(i.verdict = 'incorrect') as incorrect
        from review_sample_items i
        join x on x.id = i.escalation_id
        group by i.escalation_id
      ),
      y as (
        select x.agent_id, x.action_type, x.denied, x.reversed, coalesce(f.failed, false) as failed, coalesce(s.incorrect, false) as incorrect
        from x left join f on f.escalation_id = x.id left join s on s.escalation_id = x.id
      )
      select agent_id, action_type,
        count(*)::int as actions,
        count(*) filter (where denied or reversed or failed or incorrect)::int as errors,
        count(*) filter (where denied)::int as denials,
        count(*) filter (where reversed)::int as reversals,
        count(*) filter (where incorrect)::int as incorrect,
        count(*) filter (where failed)::int as failures
      from y group by agent_id, action_type
      union all
      select o.agent_id, o.action_type, count(*)::int, count(*) filter (where not o.success)::int, 0, 0, 0, count(*) filter (where not o.success)::int
      from outcomes o
      where o.escalation_id is null
        and (${agentId}::text is null or o.agent_id = ${agentId}::text)
        and (${from}::timestamptz is null or o.at >= ${from}::timestamptz)
        and (${to}::timestamptz is null or o.at < ${to}::timestamptz)
        and (${action}::text is null or o.action_type = ${action}::text)
      group by o.agent_id, o.action_type`),
  );
  return rows.map((r) => ({
    agentId: r.agent_id,
    actionType: r.action_type,
    actions: Number(r.actions),
    errors: Number(r.errors),
    denials: Number(r.denials),
    reversals: Number(r.reversals),
    incorrect: Number(r.incorrect),
    failures: Number(r.failures),
  }));
}

/** `rows` summed per agent: the record each agent's error rate is computed from. */
export function totalsByAgent(rows: ReadonlyArray<RecordBreakdown & { agentId: string }>): Map<string, RecordBreakdown> {
  const out = new Map<string, RecordBreakdown>();
  for (const r of rows) {
    const acc = out.get(r.agentId) ?? { ...ZERO };
    for (const k of Object.keys(ZERO) as Array<keyof RecordBreakdown>) acc[k] += r[k];
    out.set(r.agentId, acc);
  }
  return out;
}

/** One agent's record since `since` (the last demotion, or its first action), in total and per action type. */
export async function agentRecord(db: DbOrTx, agentId: string, opts: { since?: Date | null; actionType?: string } = {}): Promise<AgentRecord> {
  const since = opts.since ?? null;
  const rows = await recordRows(db, { agentId, from: since, actionType: opts.actionType ?? null });
  const byType = new Map<string, RecordBreakdown & { actionType: string }>();
  for (const r of rows) {
    const acc = byType.get(r.actionType) ?? { actionType: r.actionType, ...ZERO };
    for (const k of Object.keys(ZERO) as Array<keyof RecordBreakdown>) acc[k] += r[k];
    byType.set(r.actionType, acc);
  }
  const total = totalsByAgent(rows).get(agentId) ?? { ...ZERO };
  const byAction = [...byType.values()].sort((a, b) => b.actions - a.actions || a.actionType.localeCompare(b.actionType));
  return { agentId, since, total, byAction };
}

export interface AgentByMode {
  agentId: string;
  /** The agent's own mode (per-action modes may be stricter). */
  mode: Mode;
  /** Where it came from: `agent_modes`, `policy.agents[i].mode` or the default. */
  source: string;
  /** The record counts from here (the last demotion); null: from the first action. */
  since: Date | null;
  actions: number;
  errors: number;
  /** errors / actions, 0 when there are no actions. */
  errorRate: number;
}

/**
 * Every agent of the policy (and any other with a stored mode), its mode and
 * its record as promotion sees it, strictest mode first. For App Home and
 * `/countersign agent`.
 */
export async function agentsByMode(db: DbOrTx, policy: Policy | undefined): Promise<AgentByMode[]> {
  const stored = await storedModeRows(db);
  const ids = [...new Set([...(policy?.agents ?? []).map((a) => a.id), ...stored.map((r) => r.agentId)])];
  const out: AgentByMode[] = [];
  for (const agentId of ids) {
    const rows = stored.filter((r) => r.agentId === agentId);
    const agentWide = rows.find((r) => r.scope === '*');
    const index = policy?.agents.findIndex((a) => a.id === agentId) ?? -1;
    const cfg = index >= 0 ? policy!.agents[index] : undefined;
    const m = agentMode(index, cfg, agentWide ? { '*': agentWide.mode } : {});
    const since = agentWide?.evidenceSince ?? null;
    const { total } = await agentRecord(db, agentId, { since });
    out.push({ agentId, mode: m.mode, source: m.source, since, actions: total.actions, errors: total.errors, errorRate: errorRateOf(total) });
  }
  return out.sort((a, b) => modeRank(a.mode) - modeRank(b.mode) || a.agentId.localeCompare(b.agentId));
}
