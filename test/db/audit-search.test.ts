import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportAudit, searchAudit } from '../../src/db/queries/audit-search.js';
import { AUDIT_COLUMNS, parseAuditQuery, type AuditFilter, type AuditQuery, type AuditRecord } from '../../src/domain/audit-query.js';
import { streamExport } from '../../src/flow/audit-export.js';
import { createRedactor } from '../../src/domain/redact.js';
import { SEED_ACTIONS, SEED_AGENTS, SEED_DECIDERS, seedAudit } from '../../scripts/seed-audit.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';
import { parseCsv } from '../support/csv.js';

let m: MigratedDb;
let sql: postgres.Sql;

/** Every record as the reference model sees it: the row, its latest outcome, and created_at to the microsecond. */
interface Ref {
  id: string;
  at: string;
  atMs: number;
  agent: string | null;
  action: string | null;
  status: string;
  exec: string | null;
  decider: string | null;
  outcome: 'success' | 'failure' | null;
}
let all: Ref[];
/** The seeded month ends here: the test's dates are fixed, whatever the clock says. */
const UNTIL = Date.UTC(2026, 5, 15, 12);
const HOUR = 3_600_000;
const TIE_AT = new Date(UNTIL - 5 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, '.123456Z');
const RETRIED = randomUUID();

beforeAll(async () => {
  m = await createMigratedDb();
  sql = m.sql;
  await seedAudit(sql, { rows: 3000, days: 30, chunk: 1000, until: new Date(UNTIL) });
  // Five actions in the same microsecond: only the id orders them, and paging must not lose one.
  for (let i = 0; i < 5; i++) {
    await sql`insert into escalations (id, status, agent_id, action_type, execution_id, created_at) values (${randomUUID()}, 'allowed', 'tie-agent', 'crm.read', 'exec-tie', ${TIE_AT})`;
  }
  // Failed, then retried successfully: the latest report is the outcome.
  await sql`insert into escalations (id, status, agent_id, action_type, execution_id, decided_by, decision_reason, created_at)
    values (${RETRIED}, 'approved', 'retry-agent', 'payments.refund', 'exec-retry', 'U0RETRY01', ${'checked, "twice"\r\nwith finance'}, ${new Date(UNTIL - 24 * HOUR)})`;
  await sql`insert into outcomes (id, escalation_id, execution_id, agent_id, action_type, step, success, error, at) values
    (${randomUUID()}, ${RETRIED}, 'exec-retry', 'retry-agent', 'payments.refund', 'payments.refund', false, 'card declined, "insufficient funds", retry', ${new Date(UNTIL - 23 * HOUR)}),
    (${randomUUID()}, ${RETRIED}, 'exec-retry', 'retry-agent', 'payments.refund', 'payments.refund', true, null, ${new Date(UNTIL - 22 * HOUR)})`;
  all = await sql<Ref[]>`select e.id, to_char(e.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at,
      (extract(epoch from e.created_at) * 1000)::float8 as "atMs", e.agent_id as agent, e.action_type as action, e.status,
      e.execution_id as exec, e.decided_by as decider,
      (select case when o.success then 'success' else 'failure' end from outcomes o where o.escalation_id = e.id order by o.at desc, o.id desc limit 1) as outcome
    from escalations e`;
  // Newest first, ties broken by id descending, as Postgres compares uuids (bytewise = lowercase hex order).
  all.sort((a, b) => (a.at !== b.at ? (a.at < b.at ? 1 : -1) : a.id < b.id ? 1 : -1));
});
afterAll(async () => {
  await m?.close();
});

function matches(r: Ref, f: AuditFilter): boolean {
  if (f.agent !== undefined && r.agent !== f.agent) return false;
  if (f.action !== undefined && r.action !== f.action) return false;
  if (f.exec !== undefined && r.exec !== f.exec) return false;
  if (f.decider !== undefined && r.decider !== f.decider) return false;
  if (f.from !== undefined && r.atMs < f.from.getTime()) return false;
  if (f.to !== undefined && r.atMs >= f.to.getTime()) return false;
  if (f.outcome === 'success' || f.outcome === 'failure') return r.outcome === f.outcome;
  return f.outcome === undefined || r.status === f.outcome;
}

function query(raw: Record<string, string | undefined>, limit = 20): AuditQuery {
  const p = parseAuditQuery(raw, { limit });
  if (!p.ok) throw new Error(JSON.stringify(p.errors));
  return p.value;
}

/** Follows cursors to the end; returns every id in order and the page count. */
async function everyPage(q: AuditQuery): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  for (let cursor: AuditQuery['cursor']; ; ) {
    const page = await searchAudit(m.database.db, { ...q, ...(cursor ? { cursor } : {}) });
    pages += 1;
    ids.push(...page.records.map((r) => r.escalation_id));
    if (!page.nextCursor) return { ids, pages };
    const next = parseAuditQuery({}, { cursor: page.nextCursor });
    if (!next.ok) throw new Error('cursor did not parse');
    cursor = next.value.cursor;
  }
}

const day = (offset: number) => new Date(UNTIL - offset * 86_400_000).toISOString().slice(0, 10);

describe('audit search', () => {
  it('filters by each field alone, newest first, as the reference model does', async () => {
    const cases: Array<Record<string, string>> = [
      { agent: SEED_AGENTS[1]! },
      { action: 'payments.refund' },
      { exec: all.find((r) => r.agent === SEED_AGENTS[2])!.exec! },
      { decider: SEED_DECIDERS[4]! },
      { from: day(10) },
      { to: day(20) },
      ...['success', 'failure', 'approved', 'denied', 'expired', 'allowed', 'rejected', 'pending'].map((outcome) => ({ outcome })),
    ];
    for (const raw of cases) {
      const q = query(raw, 200);
      const want = all.filter((r) => matches(r, q.filter)).map((r) => r.id);
      expect(want.length, JSON.stringify(raw)).toBeGreaterThan(0);
      const page = await searchAudit(m.database.db, q);
      expect(page.records.map((r) => r.escalation_id), JSON.stringify(raw)).toEqual(want.slice(0, 200));
      expect(page.nextCursor !== undefined, JSON.stringify(raw)).toBe(want.length > 200);
    }
  });

  it('takes the latest outcome report of an action that failed and was retried', async () => {
    const failure = await searchAudit(m.database.db, query({ agent: 'retry-agent', outcome: 'failure' }));
    expect(failure.records).toEqual([]);
    const [r] = (await searchAudit(m.database.db, query({ agent: 'retry-agent', outcome: 'success', decider: 'U0RETRY01' }))).records;
    expect(r).toMatchObject({ escalation_id: RETRIED, status: 'approved', decided_by: 'U0RETRY01', outcome: 'success', outcome_error: null, execution_id: 'exec-retry' });
  });

  it('pages through actions created in the same microsecond without losing or repeating one', async () => {
    const { ids, pages } = await everyPage(query({ agent: 'tie-agent' }, 2));
    expect(pages).toBe(3);
    expect(ids).toEqual(all.filter((r) => r.agent === 'tie-agent').map((r) => r.id));
  });

  it('returns every matching record exactly once across pages, for any filter combination and page size', async () => {
    const execs = [...new Set(all.map((r) => r.exec))].filter((e): e is string => e !== null).slice(0, 20);
    const filter = fc.record(
      {
        agent: fc.constantFrom(...SEED_AGENTS, 'tie-agent', 'nobody'),
        action: fc.constantFrom(...new Set(SEED_ACTIONS)),
        outcome: fc.constantFrom('success', 'failure', 'approved', 'denied', 'expired', 'allowed', 'rejected', 'pending'),
        exec: fc.constantFrom(...execs),
        decider: fc.constantFrom(...SEED_DECIDERS),
        from: fc.integer({ min: 0, max: 31 }).map(day),
        to: fc.integer({ min: 0, max: 31 }).map(day),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(filter, fc.integer({ min: 1, max: 200 }), async (raw, limit) => {
        const p = parseAuditQuery(raw, { limit });
        if (!p.ok) return; // from after to: refused, tested in the domain tests
        const want = all.filter((r) => matches(r, p.value.filter)).map((r) => r.id);
        // A page size that makes many pages is slow to walk; cap the walk, the property holds per page.
        if (want.length / limit > 60) return;
        const { ids } = await everyPage(p.value);
        expect(ids).toEqual(want);
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

describe('audit export', () => {
  const range = { from: day(31), to: day(-1) };

  async function exported(format: 'jsonl' | 'csv', filter: AuditFilter, batch?: number): Promise<{ text: string; n: number }> {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const n = await streamExport(m.database.db, filter, format, out, createRedactor(), batch ? { batch } : {});
    out.end();
    return { text: Buffer.concat(chunks).toString('utf8'), n };
  }

  /** The same records through search, oldest first, for comparison. */
  async function searched(filter: AuditFilter): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for (let cursor: AuditQuery['cursor']; ; ) {
      const page = await searchAudit(m.database.db, { filter, limit: 200, ...(cursor ? { cursor } : {}) });
      out.push(...page.records);
      if (!page.nextCursor) return out.reverse();
      const next = parseAuditQuery({}, { cursor: page.nextCursor });
      cursor = next.ok ? next.value.cursor : undefined;
    }
  }

  it('round-trips JSONL: parsed lines equal the records, oldest first', async () => {
    const q = query(range);
    const { text, n } = await exported('jsonl', q.filter, 250);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(n).toBe(all.length);
    expect(lines.map((l) => JSON.parse(l) as AuditRecord)).toEqual(await searched(q.filter));
  });

  it('round-trips CSV (RFC 4180): header, quoted commas and quotes, empty for null', async () => {
    const q = query({ ...range, agent: 'retry-agent' });
    const { text } = await exported('csv', q.filter);
    expect(text).toContain('"checked, ""twice""\r\nwith finance"');
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(AUDIT_COLUMNS);
    const want = await searched(q.filter);
    const asCsv = (r: AuditRecord) => AUDIT_COLUMNS.map((c) => (r[c] === null ? '' : String(r[c])));
    expect(rows.slice(1)).toEqual(want.map(asCsv));
  });

  it('round-trips CSV for every record in the range', async () => {
    const q = query(range);
    const { text, n } = await exported('csv', q.filter, 700);
    const rows = parseCsv(text);
    expect(rows.length - 1).toBe(n);
    const asCsv = (r: AuditRecord) => AUDIT_COLUMNS.map((c) => (r[c] === null ? '' : String(r[c])));
    expect(rows.slice(1)).toEqual((await searched(q.filter)).map(asCsv));
  });

  it('narrows an export with search filters and hands batches of the requested size', async () => {
    const q = query({ ...range, agent: SEED_AGENTS[0]!, outcome: 'approved' });
    const sizes: number[] = [];
    const n = await exportAudit(m.database.db, q.filter, async (b) => void sizes.push(b.length), { batch: 50 });
    expect(n).toBe(all.filter((r) => matches(r, q.filter)).length);
    expect(sizes.slice(0, -1).every((s) => s === 50)).toBe(true);
  });
});
