/**
 * `npm run audit:seed -- --rows 1000000 [--chunk 100000] [--seed 0.42]`:
 * fills the database at $DATABASE_URL with realistic audit records for
 * search and export: one escalation per agent action over the past year,
 * and an outcome report for most actions that ran. Generated in Postgres
 * (generate_series), a chunk per statement, so 1,000,000 rows take about a
 * minute instead of a million round trips. Events are not seeded: search
 * and export read escalations and outcomes only.
 */
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { commandEnv, loadEnvFor } from '../src/config/env.js';

/** Skewed like a real fleet: a few busy agents, each with its own handful of action types. */
export const SEED_AGENTS = ['support-agent', 'procurement-agent', 'billing-agent', 'sales-agent', 'ops-agent', 'hr-agent', 'research-agent', 'devops-agent'];
const ACTIONS_PER_AGENT = 4;
export const SEED_ACTIONS = [
  ['crm.read', 'email.send', 'payments.refund', 'tickets.create'],
  ['vendors.read', 'purchase.create', 'purchase.approve', 'contracts.sign'],
  ['invoices.read', 'invoices.void', 'payments.charge', 'credits.issue'],
  ['crm.read', 'email.send', 'quotes.create', 'discounts.apply'],
  ['deploy.restart', 'tickets.create', 'dns.update', 'access.grant'],
  ['employees.read', 'access.grant', 'payroll.adjust', 'email.send'],
  ['web.search', 'docs.read', 'email.send', 'data.export'],
  ['deploy.release', 'deploy.rollback', 'infra.scale', 'secrets.rotate'],
].flat();
/** Slack ids of the people deciding (12), and of the agents' owners (one per agent). */
export const SEED_DECIDERS = Array.from({ length: 12 }, (_, i) => `U0APPR${String(i).padStart(3, '0')}`);

/**
 * Inserts `rows` escalations (and their outcomes) in chunks; returns counts.
 * Status mix: 62% allowed (autonomous/supervised), 18% approved, 8% denied,
 * 6% expired, 3% rejected, 3% pending. 90% of allowed/approved actions have
 * an outcome; 6% of outcomes are failures.
 */
export async function seedAudit(
  sql: postgres.Sql,
  /** `until`: the newest instant a seeded action may have (default: the database's now()). */
  opts: { rows: number; chunk?: number; seed?: number; days?: number; until?: Date; onProgress?: (done: number) => void },
): Promise<{ escalations: number; outcomes: number }> {
  const chunk = opts.chunk ?? 100_000;
  const days = opts.days ?? 365;
  let outcomes = 0;
  await sql.begin(async (tx) => {
    // setseed applies to this session only, so every chunk must run on it.
    await tx`select setseed(${opts.seed ?? 0.42})`;
    for (let start = 1; start <= opts.rows; start += chunk) {
      const end = Math.min(opts.rows, start + chunk - 1);
      const [r] = await tx`
        with s as (
          select g, gen_random_uuid() as id, floor(8 * power(random(), 1.6))::int as a, floor(${ACTIONS_PER_AGENT} * power(random(), 1.3))::int as k,
            random() as r, random() as d, coalesce(${opts.until ?? null}::timestamptz, now()) - random() * make_interval(days => ${days}) as at
          from generate_series(${start}::int, ${end}::int) g offset 0
        ), t as (
          select s.*, case when r < 0.62 then 'allowed' when r < 0.80 then 'approved' when r < 0.88 then 'denied'
            when r < 0.94 then 'expired' when r < 0.97 then 'rejected' else 'pending' end as status,
            (${SEED_AGENTS}::text[])[a + 1] as agent, (${SEED_ACTIONS}::text[])[a * ${ACTIONS_PER_AGENT} + k + 1] as action
          from s
        ), ins as (
          insert into escalations (id, status, digest, execution_id, agent_id, agent_owner, action_type, issue_type, urgency, route, channel,
            request, deadline, card_state, card_ts, decided_by, decided_at, decision_reason, policy_version, tier, policy_rule, decision_code, created_at)
          select id, status, md5(g::text), 'exec-' || (g / 3), agent, 'U0OWNER' || a, action, 'support', 'normal',
            case when a = 0 then 'refunds' else 'default' end, case when a = 0 then 'C0REFUNDS1' else 'C0GENERAL1' end,
            jsonb_build_object('version', 1, 'id', id, 'agent', jsonb_build_object('id', agent), 'executionId', 'exec-' || (g / 3),
              'action', jsonb_build_object('type', action, 'params', jsonb_build_object('orderId', '#' || (g % 100000), 'amountUsd', (d * 900)::int)),
              'reasoning', 'Seeded action ' || g || ': routine ' || action || ' for order #' || (g % 100000)),
            at + interval '1 hour', case when status = 'allowed' or status = 'rejected' then 'none' else 'posted' end,
            case when status in ('allowed', 'rejected') then null else extract(epoch from at)::bigint || '.000100' end,
            case when status in ('approved', 'denied') then (${SEED_DECIDERS}::text[])[1 + floor(d * 12)::int] end,
            case when status in ('approved', 'denied', 'expired') then at + d * interval '40 minutes' end,
            case when status = 'denied' then 'amount over what the customer paid' when status = 'approved' and d < 0.3 then 'checked the order' end,
            'sha256:' || left(md5((g / 50000)::text), 12),
            case when status = 'allowed' then (case when d < 0.8 then 'autonomous' else 'supervised' end) when status = 'rejected' then null else 'restricted' end,
            case when status <> 'rejected' then 'policy.agents[' || a || '].actions[' || k || ']' end,
            case status when 'allowed' then 'policy_allowed' when 'pending' then 'needs_approval' when 'rejected' then null else null end,
            at
          from t
          returning id, status, execution_id, agent_id, action_type, created_at
        )
        insert into outcomes (id, escalation_id, execution_id, agent_id, action_type, step, success, output, error, cost_tokens, cost_usd_micros, at)
        select gen_random_uuid(), id, execution_id, agent_id, action_type, action_type, ok, case when ok then 'done' end,
          case when not ok then 'upstream timeout after 30 s' end, 500 + (random() * 20000)::int, (random() * 900000)::bigint,
          created_at + random() * interval '10 minutes'
        from (select ins.*, random() < 0.94 as ok, random() as keep from ins offset 0) i
        where status in ('allowed', 'approved') and keep < 0.9
        returning 1`.then((rs) => [rs.count]);
      outcomes += r ?? 0;
      opts.onProgress?.(end);
    }
  });
  // As autovacuum would leave a table that size: statistics for the planner, and a visibility
  // map so the outcome probes are index-only.
  await sql`vacuum analyze escalations`;
  await sql`vacuum analyze outcomes`;
  return { escalations: opts.rows, outcomes };
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  };
  const rows = Number(arg('rows') ?? 100_000);
  if (!Number.isInteger(rows) || rows < 1) throw new Error('--rows: must be a positive whole number');
  const url = loadEnvFor(commandEnv.migrate, process.env).DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL: required (a migrated Postgres database; the embedded PGlite is not seeded)');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const t = performance.now();
    const r = await seedAudit(sql, {
      rows,
      chunk: arg('chunk') ? Number(arg('chunk')) : undefined,
      seed: arg('seed') ? Number(arg('seed')) : undefined,
      onProgress: (done) => process.stderr.write(`seed-audit: ${done.toLocaleString('en-US')} / ${rows.toLocaleString('en-US')}\n`),
    });
    process.stdout.write(`seeded ${r.escalations} escalations and ${r.outcomes} outcomes in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  } finally {
    await sql.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`seed-audit: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
