import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_COLUMNS, type AuditRecord } from '../../src/domain/audit-query.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';
import { runCli } from '../support/cli.js';
import { parseCsv } from '../support/csv.js';

let db: MigratedDb;
let dir: string;

beforeAll(async () => {
  db = await createMigratedDb();
  dir = await mkdtemp(join(tmpdir(), 'cs-audit-cli-'));
  for (let i = 0; i < 25; i++) {
    await db.sql`insert into escalations (id, status, agent_id, action_type, execution_id, decision_reason, created_at)
      values (${randomUUID()}, 'denied', 'cli-agent', 'payments.refund', ${`exec-cli-${i}`}, ${i === 0 ? 'refund to 4111 1111 1111 1111, says "ok"' : null},
        ${`2026-10-${String(1 + i).padStart(2, '0')}T08:00:00Z`})`;
  }
});
afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(args, { env: { DATABASE_URL: db.url } });

describe('countersign audit search', () => {
  it('prints a page as JSON and the cursor for the next one', async () => {
    const first = await cli('audit', 'search', 'agent:cli-agent', 'outcome:denied', 'limit:20', '--json');
    expect(first.code).toBe(0);
    const p1 = JSON.parse(first.stdout) as { records: AuditRecord[]; next_cursor: string };
    expect(p1.records).toHaveLength(20);
    expect(p1.records[0]!.execution_id).toBe('exec-cli-24');
    const second = await cli('audit', 'search', 'agent:cli-agent', `cursor:${p1.next_cursor}`, '--json');
    const p2 = JSON.parse(second.stdout) as { records: AuditRecord[]; next_cursor: string | null };
    expect(p2.records.map((r) => r.execution_id)).toEqual(['exec-cli-4', 'exec-cli-3', 'exec-cli-2', 'exec-cli-1', 'exec-cli-0']);
    expect(p2.next_cursor).toBeNull();
    expect(p2.records[4]!.decision_reason).toBe('refund to [card ••••1111], says "ok"');
  });

  it('prints lines, then the command for the next page', async () => {
    const r = await cli('audit', 'search', 'agent:cli-agent', 'from:2026-10-01', 'to:2026-10-10', 'limit:5');
    expect(r.stdout.split('\n').filter((l) => l.includes('cli-agent  payments.refund  denied'))).toHaveLength(5);
    expect(r.stdout).toMatch(/next page: countersign audit search agent:cli-agent from:2026-10-01T00:00:00.000Z to:2026-10-11T00:00:00.000Z cursor:\S+ limit:5/);
  });

  it('exits 65 naming the bad field', async () => {
    const r = await cli('audit', 'search', 'outcome:lost');
    expect(r.code).toBe(65);
    expect(r.stderr).toContain('countersign: outcome: must be one of');
  });
});

describe('countersign audit export', () => {
  it('writes JSONL to a file, oldest first', async () => {
    const out = join(dir, 'audit.jsonl');
    const r = await cli('audit', 'export', '--from', '2026-10-01', '--to', '2026-10-31', '--format', 'jsonl', '--out', out, 'agent:cli-agent');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`exported 25 audit records to ${out}`);
    const rows = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    expect(rows.map((x) => x.execution_id)).toEqual(Array.from({ length: 25 }, (_, i) => `exec-cli-${i}`));
  });

  it('writes CSV to stdout', async () => {
    const r = await cli('audit', 'export', '--from=2026-10-01', '--to=2026-10-03', '--format=csv');
    const rows = parseCsv(r.stdout);
    expect(rows[0]).toEqual(AUDIT_COLUMNS);
    expect(rows.slice(1).map((x) => x[1])).toEqual(['exec-cli-0', 'exec-cli-1', 'exec-cli-2']);
    expect(rows[1]![AUDIT_COLUMNS.indexOf('decision_reason')]).toBe('refund to [card ••••1111], says "ok"');
  });

  it('needs --from and --to', async () => {
    const r = await cli('audit', 'export', '--format', 'csv');
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('--from and --to required');
  });
}, 60_000);
