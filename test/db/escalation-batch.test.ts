import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { insertEscalationRecordedBatched } from '../../src/db/queries/escalation-batch.js';
import { getEscalation, insertEscalationRecorded } from '../../src/db/queries/escalations.js';
import type { EscalationRow, NewEscalationRow } from '../../src/db/schema/escalations.js';
import { events } from '../../src/db/schema/events.js';
import { spendLedger } from '../../src/db/schema/spend-ledger.js';
import { eq } from 'drizzle-orm';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;
let database: Database;
let sql: postgres.Sql;

beforeAll(async () => {
  // Pool of 4: concurrent callers must be able to share group statements.
  db = await createMigratedDb({ max: 4 });
  ({ database, sql } = db);
});
afterAll(async () => {
  await db?.close();
});

const row = (id: string, extra: Partial<NewEscalationRow> = {}): NewEscalationRow => ({
  id,
  status: 'allowed',
  digest: `d-${id}`,
  executionId: 'exec-1',
  agentId: 'support-agent',
  request: { id, nested: { a: [1, 'two'] } },
  triggers: [],
  callbackUrl: null,
  decidedBy: 'policy',
  decidedAt: new Date('2026-11-25T10:00:00.123Z'),
  deadline: new Date('2030-01-01T00:00:00Z'),
  ...extra,
});
const event = (id: string) => ({ escalationId: id, executionId: 'exec-1', type: 'received' as const, actor: 'agent:support-agent', data: { digest: `d-${id}` } });

describe('group-committed escalation inserts', () => {
  it('return the same rows as the single-row insert, each with its one event, and undefined for an existing id', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const single = await insertEscalationRecorded(database.db, row(a), event(a));
    // Concurrent callers, mixed shapes, the same id twice in flight, and one that exists already.
    const c = randomUUID();
    const ids = Array.from({ length: 30 }, () => randomUUID());
    const results = await Promise.all([
      insertEscalationRecordedBatched(database.db, row(b), event(b)),
      insertEscalationRecordedBatched(database.db, row(a), event(a)),
      insertEscalationRecordedBatched(database.db, row(c, { reviewState: 'pending', notifiedAt: null }), event(c)),
      insertEscalationRecordedBatched(database.db, row(c, { reviewState: 'pending', notifiedAt: null }), event(c)),
      ...ids.map((id) => insertEscalationRecordedBatched(database.db, row(id), event(id))),
    ]);
    const [rb, ra, rc1, rc2, ...rest] = results;
    expect(ra).toBeUndefined();
    expect([rc1, rc2].filter(Boolean)).toHaveLength(1);
    expect(rest.every(Boolean)).toBe(true);
    const { createdAt: _x, id: _y, digest: _z, request: _r, ...shapeA } = single!;
    const { createdAt: _x2, id: _y2, digest: _z2, request: _r2, ...shapeB } = rb!;
    expect(shapeB).toEqual(shapeA);
    expect(rb!.request).toEqual({ id: b, nested: { a: [1, 'two'] } });
    // The statement does not send the request back: the row returned holds the one stored.
    const [stored] = await sql<{ request: unknown }[]>`select request from escalations where id = ${b}`;
    expect(stored!.request).toEqual(rb!.request);
    expect(rb!.decidedAt).toEqual(new Date('2026-11-25T10:00:00.123Z'));
    expect(rb!.notifiedAt).toBeNull();
    expect(rb!.cardState).toBe('none');
    expect((rc1 ?? rc2)!.reviewState).toBe('pending');
    const counts = await sql<{ escalation_id: string; n: number }[]>`
      select escalation_id, count(*)::int as n from events where escalation_id = any(${[a, b, c, ...ids]}::uuid[]) group by 1`;
    expect(counts).toHaveLength(3 + ids.length);
    expect(counts.every((r) => r.n === 1)).toBe(true);
  });

  it('answer undefined for a lone row whose id exists, and record its spend once', async () => {
    const id = randomUUID();
    const spend = { agentId: 'procurement-agent', executionId: 'exec-1', usdMicros: 5e6, at: new Date('2026-11-25T10:00:00Z') };
    expect(await insertEscalationRecordedBatched(database.db, row(id), event(id), spend)).toBeDefined();
    expect(await insertEscalationRecordedBatched(database.db, row(id), event(id), spend)).toBeUndefined();
    const [n] = await sql<{ spend: number; evs: number }[]>`
      select (select count(*)::int from spend_ledger where escalation_id = ${id}) as spend,
             (select count(*)::int from events where escalation_id = ${id}) as evs`;
    expect(n).toEqual({ spend: 1, evs: 1 });
  });

  it('record the request under an event that carries the row\'s own request, and an event\'s other request as given', async () => {
    const [own, other] = [randomUUID(), randomUUID()];
    const ownRow = row(own);
    const otherRow = row(other);
    await Promise.all([
      insertEscalationRecordedBatched(database.db, ownRow, { ...event(own), data: { digest: 'd', request: ownRow.request, n: 1 } }),
      insertEscalationRecordedBatched(database.db, otherRow, { ...event(other), data: { digest: 'd', request: { id: other, edited: true } } }),
    ]);
    const evs = await sql<{ escalation_id: string; data: Record<string, unknown> }[]>`
      select escalation_id, data from events where escalation_id = any(${[own, other]}::uuid[])`;
    const dataOf = (id: string) => evs.find((e) => e.escalation_id === id)!.data;
    expect(dataOf(own)).toEqual({ digest: 'd', request: { id: own, nested: { a: [1, 'two'] } }, n: 1 });
    expect(dataOf(other)).toEqual({ digest: 'd', request: { id: other, edited: true } });
  });

  it('fails only the bad row when one row of a statement is refused', async () => {
    const good = Array.from({ length: 5 }, () => randomUUID());
    const bad = randomUUID();
    const results = await Promise.allSettled([
      ...good.map((id) => insertEscalationRecordedBatched(database.db, row(id), event(id))),
      insertEscalationRecordedBatched(database.db, row(bad, { status: 'bogus' }), event(bad)),
    ]);
    expect(results.slice(0, 5).every((r) => r.status === 'fulfilled' && r.value)).toBe(true);
    expect(results[5]!.status).toBe('rejected');
    const [n] = await sql<{ rows: number; evs: number }[]>`
      select (select count(*)::int from escalations where id = any(${[...good, bad]}::uuid[])) as rows,
             (select count(*)::int from events where escalation_id = any(${[...good, bad]}::uuid[])) as evs`;
    expect(n).toEqual({ rows: 5, evs: 5 });
  });

  it('record an allowed action\'s spend with its escalation, once, and none for an id that exists already or a refused row', async () => {
    const spend = (usd: number) => ({ agentId: 'procurement-agent', executionId: 'exec-1', usdMicros: usd * 1e6, at: new Date('2026-11-25T10:00:00Z') });
    const [first, retried, plain, bad] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await insertEscalationRecordedBatched(database.db, row(retried), event(retried), spend(7));
    const results = await Promise.allSettled([
      insertEscalationRecordedBatched(database.db, row(first), event(first), spend(300)),
      // A retry of an escalation already recorded (with its spend): nothing more is counted.
      insertEscalationRecordedBatched(database.db, row(retried), event(retried), spend(7)),
      insertEscalationRecordedBatched(database.db, row(plain), event(plain)),
      insertEscalationRecordedBatched(database.db, row(bad, { status: 'bogus' }), event(bad), spend(50)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    const ledger = await sql<{ escalation_id: string; usd_micros: string; kind: string; at: Date }[]>`
      select escalation_id, usd_micros, kind, at from spend_ledger where escalation_id = any(${[first, retried, plain, bad]}::uuid[]) order by usd_micros`;
    expect(ledger.map((l) => [l.escalation_id, Number(l.usd_micros), l.kind])).toEqual([
      [retried, 7e6, 'action'],
      [first, 300e6, 'action'],
    ]);
    expect(ledger[0]!.at).toEqual(new Date('2026-11-25T10:00:00Z'));
  });
});

// A lone insert binds each value to a typed parameter, and each driver serialises those by type.
describe.each(['postgres', 'pglite'] as const)('a lone escalation insert on %s', (driver) => {
  let target: Database;
  let dir: string | undefined;
  beforeAll(async () => {
    if (driver === 'postgres') return void (target = database);
    dir = mkdtempSync(join(tmpdir(), 'countersign-batch-'));
    target = await openDatabase({ url: undefined, dataDir: dir });
    await runMigrations(target, undefined);
  }, 60_000);
  afterAll(async () => {
    if (driver === 'pglite') await target?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores every kind of column exactly as the single-row insert does', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    // Text, uuid, jsonb (object, array, null), timestamps, boolean, integer.
    const extra: Partial<NewEscalationRow> = {
      triggers: [{ kind: 'low_confidence', message: 'confidence 0.41 < 0.7' }],
      approvalGroups: null,
      approvals: [{ user: 'U1', at: '2026-11-25T10:00:00Z', groups: [] }],
      approvalsRequired: 2,
      failSafe: true,
      notifiedAt: new Date('2026-11-25T10:00:01.456Z'),
      policyReason: 'it\'s "quoted", 100% ünïcode, {braces}',
      digestId: randomUUID(),
    };
    const single = await insertEscalationRecorded(target.db, row(a, extra), event(a));
    // Alone: nothing else in flight, so it takes the typed statement.
    const lone = await insertEscalationRecordedBatched(target.db, row(b, extra), { ...event(b), data: { digest: `d-${b}`, request: row(b).request } });
    const shape = ({ createdAt: _c, id: _i, digest: _d, ...rest }: EscalationRow) => rest;
    expect(shape(lone!)).toEqual({ ...shape(single!), request: { id: b, nested: { a: [1, 'two'] } } });
    expect(lone!.failSafe).toBe(true);
    expect(lone!.approvalsRequired).toBe(2);
    // As stored, read back the same way.
    expect(shape((await getEscalation(target.db, b))!)).toEqual(shape(lone!));
    expect(shape((await getEscalation(target.db, a))!)).toEqual({ ...shape(lone!), request: { id: a, nested: { a: [1, 'two'] } } });
    // Its event carries the row's request, sent once, with the row.
    const evs = await target.db.select({ data: events.data }).from(events).where(eq(events.escalationId, b));
    expect(evs.map((e) => e.data)).toEqual([{ digest: `d-${b}`, request: { id: b, nested: { a: [1, 'two'] } } }]);
  });

  it('records several events in the order given, with a spend, and nothing for an id that exists', async () => {
    const id = randomUUID();
    const evsOf = [
      { escalationId: id, executionId: null, type: 'approval_recorded' as const, actor: 'standing:s1', data: { first: true } },
      { ...event(id), data: { digest: `d-${id}`, request: row(id).request } },
      { escalationId: id, executionId: 'exec-1', type: 'decision_made' as const, actor: 'policy' },
    ];
    const spend = { agentId: 'procurement-agent', executionId: 'exec-1', usdMicros: 12_340_000, at: new Date('2026-11-25T10:00:00Z') };
    const r = row(id);
    expect(await insertEscalationRecordedBatched(target.db, r, evsOf.map((ev) => (ev.data?.request ? { ...ev, data: { ...ev.data, request: r.request } } : ev)), spend)).toBeDefined();
    expect(await insertEscalationRecordedBatched(target.db, row(id), event(id), spend)).toBeUndefined();
    const stored = await target.db.select().from(events).where(eq(events.escalationId, id)).orderBy(events.id);
    expect(stored.map((e) => [e.type, e.actor, e.executionId, e.data])).toEqual([
      ['approval_recorded', 'standing:s1', null, { first: true }],
      ['received', 'agent:support-agent', 'exec-1', { digest: `d-${id}`, request: { id, nested: { a: [1, 'two'] } } }],
      ['decision_made', 'policy', 'exec-1', {}],
    ]);
    const ledger = await target.db.select().from(spendLedger).where(eq(spendLedger.escalationId, id));
    expect(ledger.map((l) => [l.kind, Number(l.usdMicros), l.at])).toEqual([['action', 12_340_000, new Date('2026-11-25T10:00:00Z')]]);
  });
});
