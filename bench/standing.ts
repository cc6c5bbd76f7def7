/**
 * `authorize()` for a request an active standing approval covers, beside the
 * autonomous path's floor measured in the same run: the raw BullMQ round trip
 * and a raw single-row committed INSERT. The paced latencies alternate in 1 s
 * blocks (raw round trip, INSERT, autonomous authorize, covered authorize, …)
 * so that whatever else the machine does lands on all four alike.
 *
 * The bot runs as deployed (issue 16): built JS in its own process, as the
 * authorize rows of `npm run bench` run it, so that the driver's allocations
 * and garbage collections are not the bot's; the raw worker has a process of
 * its own too. Run alone: `npx tsx bench/standing.ts [--quick] [--no-build]`.
 *
 * A covered request does more than an autonomous one: it is a restricted
 * request, so after the policy it reads the agent's standing approvals and
 * claims a use (two statements), then reserves its spend like any action that
 * runs. The bar is the autonomous path's: p99 ≤ 1.5 × (raw round trip p99 + INSERT p99).
 */
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { parse, stringify } from 'yaml';
import type { EscalationInput } from '../src/domain/escalation.js';
import { uniqueName } from '../test/support/services.js';
import { PROCUREMENT_CHANNEL, purchase, submitGrant } from '../test/support/standing.js';
import { autonomousEscalation, startRawBull } from './authorize.js';
import { withDeployedBot, type DeployedAuthorize } from './authorize-http-deployed.js';
import { benchConfigText } from './bot.js';
import { builtEntry } from './process.js';
import { markdownTable, numberFlag, runBench, type Row } from './run.js';
import { atRate, lat, latency, ms, now, until } from './stats.js';

const RATE = 100;
const VENDOR = 'bench-standing';

/** The bench config, with room for thousands of covered purchases: procurement's daily cap and the organisation's raised, the count limit at its maximum. */
function configText(): string {
  const doc = parse(benchConfigText()) as { policy: { organization: Record<string, number>; standing?: Record<string, number>; agents: Array<{ id: string; budgets?: Record<string, number> }> } };
  doc.policy.organization = { monthlyUsd: 1e9, projectedMonthlyUsd: 1e9 };
  doc.policy.standing = { maxHours: 24, maxCount: 100_000 };
  const procurement = doc.policy.agents.find((a) => a.id === 'procurement-agent')!;
  procurement.budgets = { dailyUsd: 1e9 };
  return stringify(doc);
}

/**
 * Its own deployed bot (`entry`: the built bot, process.ts's builtEntry) and
 * database; rows for the bench's table. The bot's worker concurrency is its default.
 */
export function standingBench(entry: string, opts: { quick: boolean; concurrency: number; log: (m: string) => void }): Promise<Row[]> {
  return withDeployedBot(entry, '', (bot) => standingRows(bot, opts), { config: configText() });
}

async function standingRows({ bull: h, http, fake }: DeployedAuthorize, opts: { quick: boolean; concurrency: number; log: (m: string) => void }): Promise<Row[]> {
  const { log } = opts;
  const COUNT = opts.quick ? 200 : 1000;
  const raw = await startRawBull(opts.concurrency, { ownProcess: true });
  const sql = postgres(h.dbUrl, { max: 20, onnotice: () => {} });
  const table = uniqueName('bench_standing');
  try {
    log('granting a standing approval on a $300 purchase (the grant modal, signed, as Slack sends it)');
    const first = purchase(300, { vendor: VENDOR });
    await h.client.authorize(first);
    const cardOf = () => fake.messages(PROCUREMENT_CHANNEL).find((m) => m.metadata?.event_payload.escalation_id === first.id);
    await until(() => cardOf() !== undefined, 'the first purchase\'s card', 10_000, 20);
    const res = await submitGrant(http, 'U0APPROVER2', cardOf()!, { count: '100000', max: { amountUsd: '400' } });
    if (res.status !== 200) throw new Error(`grant submission answered ${res.status}`);
    await until(async () => (await h.sql`select 1 from standing_approvals where created_from = ${first.id}`).length > 0, 'the standing approval', 10_000, 20);

    await sql.unsafe(`create table ${table} (id uuid primary key, payload jsonb not null, created_at timestamptz not null default now())`);
    const payload = sql.json(autonomousEscalation() as unknown as postgres.JSONValue);
    const covered: string[] = [];
    const variants = {
      raw: () => raw.roundTrip(autonomousEscalation()),
      insert: async () => void (await sql`insert into ${sql(table)} (id, payload) values (${randomUUID()}, ${payload})`),
      autonomous: async () => {
        const a = await h.client.authorize(autonomousEscalation());
        if (a.code !== 'policy_allowed') throw new Error(`autonomous authorize answered ${JSON.stringify(a)}`);
      },
      standing: async () => {
        const e: EscalationInput = purchase(300, { vendor: VENDOR });
        covered.push(e.id);
        const a = await h.client.authorize(e);
        if (a.code !== 'standing_approved') throw new Error(`covered authorize answered ${JSON.stringify(a)}`);
      },
    } as const;
    type Which = keyof typeof variants;
    log('warm-up');
    for (let i = 0; i < 50; i++) for (const fn of Object.values(variants)) await fn();

    log(`${COUNT} each at ${RATE}/s in alternate 1 s blocks: raw round trip, INSERT, autonomous authorize, covered authorize`);
    const order: Which[] = ['raw', 'insert', 'autonomous', 'standing'];
    const lats: Record<Which, number[]> = { raw: [], insert: [], autonomous: [], standing: [] };
    for (let b = 0; lats.standing.length < COUNT; b++) {
      const which = order[b % order.length]!;
      const n = Math.min(RATE, COUNT - lats[which].length);
      await atRate(RATE, n, async () => {
        const t0 = now();
        await variants[which]();
        lats[which].push(now() - t0);
      });
    }
    const [row] = await h.sql<{ n: number; used: number }[]>`
      select (select count(*)::int from escalations where id = any(${covered}::uuid[]) and status = 'approved' and decided_by like 'standing:%') as n,
             (select used_count from standing_approvals where created_from = ${first.id}) as used`;
    if (row?.n !== covered.length || row.used !== covered.length) throw new Error(`covered decisions recorded: ${row?.n}/${covered.length}, uses ${row?.used}`);

    const f = { raw: latency(lats.raw), insert: latency(lats.insert), autonomous: latency(lats.autonomous), standing: latency(lats.standing) };
    const floor = f.raw.p99 + f.insert.p99;
    const rows: Row[] = [
      { metric: `baseline: raw BullMQ round trip at ${RATE}/s (${f.raw.n})`, figure: lat(f.raw), goal: '—', baseline: '1 s blocks alternating with the rows below', pass: undefined },
      { metric: `baseline: raw Postgres single-row committed INSERT at ${RATE}/s (${f.insert.n})`, figure: lat(f.insert), goal: '—', baseline: 'auto-commit, jsonb payload the size of the request', pass: undefined },
      { metric: `autonomous authorize() at ${RATE}/s (${f.autonomous.n}, support-agent crm.read)`, figure: lat(f.autonomous), goal: `p99 ≤ 1.5× floor (${ms(1.5 * floor)})`, baseline: `floor = round trip p99 + INSERT p99 = ${ms(floor)}`, pass: f.autonomous.p99 <= 1.5 * floor },
      {
        metric: `authorize() covered by an active standing approval at ${RATE}/s (${f.standing.n}, procurement $300 purchase, restricted)`,
        figure: lat(f.standing),
        goal: `p99 ≤ 1.5× floor (${ms(1.5 * floor)})`,
        baseline: `floor = round trip p99 + INSERT p99 = ${ms(floor)}; autonomous ${lat(f.autonomous)}`,
        pass: f.standing.p99 <= 1.5 * floor,
      },
    ];
    return rows;
  } finally {
    await raw.close().catch(() => {});
    await sql.unsafe(`drop table if exists ${table}`).catch(() => {});
    await sql.end();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
  runBench(async () => {
    const rows = await standingBench(await builtEntry(log), { quick, concurrency: numberFlag('concurrency', 50), log });
    process.stdout.write(`\n${markdownTable(rows).join('\n')}\n`);
  });
}
