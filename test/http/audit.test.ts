import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_COLUMNS, type AuditRecord } from '../../src/domain/audit-query.js';
import { API_TOKEN, startHarness, type Harness } from '../support/harness.js';
import { parseCsv } from '../support/csv.js';

let h: Harness;
const AGENT = 'api-agent';
beforeAll(async () => {
  h = await startHarness();
  for (let i = 0; i < 45; i++) {
    const id = randomUUID();
    await h.sql`insert into escalations (id, status, agent_id, action_type, execution_id, decided_by, decision_reason, created_at)
      values (${id}, ${i % 3 === 0 ? 'denied' : 'allowed'}, ${AGENT}, 'crm.read', ${`exec-api-${i}`}, ${i % 3 === 0 ? 'U0APPROVER1' : null},
        ${i === 3 ? 'call 415-555-0134, "urgent", then close' : null}, ${`2026-03-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`}::timestamptz + make_interval(secs => ${i}))`;
    if (i % 2 === 0) {
      await h.sql`insert into outcomes (id, escalation_id, execution_id, agent_id, action_type, step, success, error, cost_tokens, cost_usd_micros)
        values (${randomUUID()}, ${id}, ${`exec-api-${i}`}, ${AGENT}, 'crm.read', 'crm.read', ${i % 4 === 0}, ${i % 4 === 0 ? null : 'timeout'}, 1200, 410000)`;
    }
  }
});
afterAll(async () => {
  await h?.close();
});

const get = (path: string, token = API_TOKEN) =>
  fetch(`${h.baseUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('GET /api/audit', () => {
  it('requires a bearer token from API_TOKENS', async () => {
    const none = await get(`/api/audit?agent=${AGENT}`, '');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect((await get(`/api/audit?agent=${AGENT}`, 'wrong-token')).status).toBe(401);
    expect((await get(`/api/audit/export?from=2026-03-01&to=2026-03-31`, 'wrong-token')).status).toBe(401);
  });

  it('answers 400 naming every bad field', async () => {
    const res = await get('/api/audit?outcome=won&from=last-week&limit=500&colour=red&agent=a&agent=b&cursor=zz');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; errors: Array<{ field: string }> };
    expect(body.error).toBe('invalid_query');
    expect(body.errors.map((e) => e.field).sort()).toEqual(['agent', 'colour', 'cursor', 'from', 'limit', 'outcome']);
  });

  it('pages through every matching record once, newest first, with the outcome and cost', async () => {
    const seen: AuditRecord[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/api/audit?agent=${AGENT}&from=2026-03-01&to=2026-03-31&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { records: AuditRecord[]; next_cursor: string | null };
      seen.push(...body.records);
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(45);
    expect(new Set(seen.map((r) => r.escalation_id)).size).toBe(45);
    const times = seen.map((r) => r.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    const failed = seen.find((r) => r.execution_id === 'exec-api-2')!;
    expect(failed).toMatchObject({ outcome: 'failure', outcome_error: 'timeout', cost_tokens: 1200, cost_usd: 0.41 });
    // Free text is redacted on the way out.
    expect(seen.find((r) => r.execution_id === 'exec-api-3')!.decision_reason).toBe('call [phone ••34], "urgent", then close');
  });

  it('filters by outcome and decider together', async () => {
    const res = await get(`/api/audit?agent=${AGENT}&outcome=denied&decider=U0APPROVER1&limit=200`);
    const body = (await res.json()) as { records: AuditRecord[]; next_cursor: string | null };
    expect(body.records).toHaveLength(15);
    expect(body.next_cursor).toBeNull();
  });
});

describe('GET /api/audit/export', () => {
  it('needs a range and a known format', async () => {
    const res = await get('/api/audit/export?format=xml&to=2026-03-31');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<{ field: string }> };
    expect(body.errors.map((e) => e.field).sort()).toEqual(['format', 'from']);
  });

  it('streams JSONL, oldest first, equal to the search results', async () => {
    const res = await get(`/api/audit/export?from=2026-03-01&to=2026-03-31&agent=${AGENT}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="audit-2026-03-01-2026-03-31.jsonl"');
    const lines = (await res.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditRecord);
    const page = (await (await get(`/api/audit?agent=${AGENT}&limit=200`)).json()) as { records: AuditRecord[] };
    expect(lines).toEqual(page.records.reverse());
  });

  it('streams CSV with a header and RFC 4180 quoting', async () => {
    const res = await get(`/api/audit/export?from=2026-03-01&to=2026-03-31&agent=${AGENT}&format=csv`);
    expect(res.headers.get('content-type')).toContain('text/csv');
    const text = await res.text();
    expect(text).toContain('"call [phone ••34], ""urgent"", then close"');
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(AUDIT_COLUMNS);
    expect(rows).toHaveLength(46);
  });
});
