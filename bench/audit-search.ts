/**
 * Audit search over a seeded database: each filter alone, combinations and
 * deep pages, against a primary-key lookup measured in the same run. Runs
 * inside `npm run bench` (bench/index.ts) or alone:
 * `npx tsx bench/audit-search.ts [--quick] [--rows=N]`.
 * Seeds a scratch database (created here, dropped at the end), because
 * 1,000,000 records would swamp the other phases' database.
 */
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { openDatabase, type Db } from '../src/db/client.js';
import { runMigrations } from '../src/db/migrate.js';
import { searchAudit } from '../src/db/queries/audit-search.js';
import { parseAuditQueryText, type AuditQuery } from '../src/domain/audit-query.js';
import { SEED_AGENTS, SEED_DECIDERS, seedAudit } from '../scripts/seed-audit.js';
import { createTestDatabase } from '../test/support/services.js';
import { latency, lat, now, type Latency } from './stats.js';


export interface AuditSearchResult {
  rows: number;
  seedSeconds: number;
  /** Every search in the mix, pooled. */
  all: Latency;
  byQuery: Array<{ query: string; latency: Latency; hits: number }>;
  baseline: Latency;
}

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

/** The mix: each filter alone, combinations, and pages deep into a large result. */
function queryMix(execId: string): string[] {
  const [busy, , , , , , rare] = SEED_AGENTS;
  const d = SEED_DECIDERS[3]!;
  const day = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  const quarterAgo = new Date(Date.now() - 90 * 86_400_000).toISOString().slice(0, 10);
  return [
    '',
    `agent:${busy}`,
    `agent:${rare}`,
    'action:payments.refund',
    'action:secrets.rotate',
    'outcome:success',
    'outcome:failure',
    'outcome:approved',
    'outcome:denied',
    'outcome:expired',
    'outcome:pending',
    `from:${monthAgo}`,
    `from:${day} to:${day}`,
    `exec:${execId}`,
    `decider:${d}`,
    `agent:${busy} action:payments.refund`,
    `agent:${rare} outcome:failure`,
    `agent:${busy} from:${day} to:${day}`,
    `decider:${d} outcome:approved`,
    `decider:${d} outcome:failure`,
    `action:email.send outcome:denied from:${quarterAgo}`,
    `agent:${busy} action:payments.refund outcome:failure from:${quarterAgo} to:${monthAgo}`,
    `agent:${busy} action:payments.refund outcome:approved decider:${d} from:${quarterAgo}`,
    `agent:${rare} decider:${d} outcome:expired`,
  ];
}

/** Follows `pages` cursors from the start of `text`'s results; returns the query of the last page. */
async function deepPage(db: Parameters<typeof searchAudit>[0], text: string, pages: number): Promise<AuditQuery> {
  const q = parseAuditQueryText(`${text} limit:200`);
  if (!q.ok) throw new Error(`bench query "${text}": ${q.errors.map((e) => e.message).join('; ')}`);
  let query = q.value;
  for (let i = 0; i < pages; i++) {
    const page = await searchAudit(db, query);
    if (!page.nextCursor) break;
    const next = parseAuditQueryText(`${text} cursor:${page.nextCursor}`);
    if (!next.ok) throw new Error('bench: cursor did not parse');
    query = next.value;
  }
  return query;
}

/** Runs the query mix `reps` times, interleaved with primary-key lookups, on an already seeded database. */
export async function measureAuditSearch(db: Db, sql: postgres.Sql, reps: number): Promise<Omit<AuditSearchResult, 'rows' | 'seedSeconds'>> {
  const [{ exec } = { exec: 'exec-1' }] = await sql<{ exec: string }[]>`select execution_id as exec from escalations order by created_at desc offset 5000 limit 1`;
  const ids = (await sql<{ id: string }[]>`select id from escalations tablesample system (1) limit 1000`).map((r) => r.id);

  const mix: Array<{ query: string; q: AuditQuery }> = queryMix(exec).map((text) => {
    const p = parseAuditQueryText(text);
    if (!p.ok) throw new Error(`bench query "${text}": ${p.errors.map((e) => e.message).join('; ')}`);
    return { query: text || '(no filter)', q: p.value };
  });
  log('audit search: following cursors for the deep pages');
  mix.push({ query: '(no filter), page 250 (records 50,001–50,020 via cursor)', q: { ...(await deepPage(db, '', 250)), limit: 20 } });
  mix.push({ query: `agent:${SEED_AGENTS[0]}, page 100 via cursor`, q: { ...(await deepPage(db, `agent:${SEED_AGENTS[0]}`, 100)), limit: 20 } });
  mix.push({ query: 'outcome:failure, page 20 via cursor', q: { ...(await deepPage(db, 'outcome:failure', 20)), limit: 20 } });

  // Warm up caches and plans once per query, then interleave, so no query type rides a warm streak.
  const hits = await Promise.all(mix.map(async (m) => (await searchAudit(db, m.q)).records.length));
  for (const id of ids.slice(0, 50)) await sql`select * from escalations where id = ${id}`;
  const samples = mix.map(() => [] as number[]);
  const base: number[] = [];
  log(`audit search: ${mix.length} queries × ${reps}, interleaved with primary-key lookups`);
  let t = 0;
  for (let r = 0; r < reps; r++) {
    for (const [i, m] of mix.entries()) {
      t = now();
      await searchAudit(db, m.q);
      samples[i]!.push(now() - t);
      t = now();
      await sql`select * from escalations where id = ${ids[(r * mix.length + i) % ids.length]!}`;
      base.push(now() - t);
    }
  }
  return {
    all: latency(samples.flat()),
    byQuery: mix.map((m, i) => ({ query: m.query, latency: latency(samples[i]!), hits: hits[i]! })),
    baseline: latency(base),
  };
}

export async function auditSearchBench(opts: { rows: number; reps: number }): Promise<AuditSearchResult> {
  const scratch = await createTestDatabase();
  const database = await openDatabase({ url: scratch.url, dataDir: '/nonexistent', max: 4 });
  const sql = postgres(scratch.url, { max: 1, onnotice: () => {} });
  try {
    await runMigrations(database, scratch.url);
    log(`audit search: seeding ${opts.rows.toLocaleString('en-US')} records`);
    const t = now();
    await seedAudit(sql, { rows: opts.rows, onProgress: (n) => log(`audit search: seeded ${n.toLocaleString('en-US')}`) });
    const seedSeconds = (now() - t) / 1000;
    return { rows: opts.rows, seedSeconds, ...(await measureAuditSearch(database.db, sql, opts.reps)) };
  } finally {
    await sql.end();
    await database.close();
    await scratch.drop();
  }
}

export function printAuditSearch(r: AuditSearchResult): string {
  return [
    '',
    `Audit search over ${r.rows.toLocaleString('en-US')} records (seeded in ${r.seedSeconds.toFixed(0)} s), page of 20, newest first:`,
    '',
    '| query | p50 / p99 | rows |',
    '|---|---|---|',
    ...r.byQuery.map((q) => `| \`${q.query}\` | ${lat(q.latency)} | ${q.hits} |`),
    `| **all ${r.all.n} searches** | **${lat(r.all)}** (max ${r.all.max.toFixed(1)} ms) | |`,
    `| baseline: \`select * from escalations where id = $1\` | ${lat(r.baseline)} | 1 |`,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const rows = Number(args.find((a) => a.startsWith('--rows='))?.split('=')[1] ?? (quick ? 100_000 : 1_000_000));
  auditSearchBench({ rows, reps: quick ? 20 : 50 }).then(
    (r) => {
      process.stdout.write(printAuditSearch(r));
      process.stdout.write(`\ngoal p99 ≤ 50 ms: ${r.all.p99 <= 50 ? 'pass' : 'FAIL'}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
