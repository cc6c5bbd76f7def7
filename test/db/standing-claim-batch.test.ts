import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import type { Database } from '../../src/db/client.js';
import { claimStandingUseGrouped } from '../../src/db/queries/standing-claim-batch.js';
import { claimStandingUse } from '../../src/db/queries/standing.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;
let database: Database;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createMigratedDb({ max: 6 });
  ({ database, sql } = db);
});
afterAll(async () => {
  await db?.close();
});

const NOW = new Date('2026-12-06T12:00:00Z');

async function grant(opts: { maxCount: number; maxSpendMicros?: number; expiresAt?: Date }): Promise<string> {
  const id = randomUUID();
  await sql`insert into standing_approvals (id, agent_id, action_type, route, granted_by, granted_via, created_from, bounds, created_at, expires_at, max_count, max_spend_micros)
    values (${id}, 'procurement-agent', 'purchases.create', 'procurement', 'U0APPROVER2', 'user', ${randomUUID()}, '{}'::jsonb, ${NOW}, ${opts.expiresAt ?? new Date(NOW.getTime() + 86_400_000)}, ${opts.maxCount}, ${opts.maxSpendMicros ?? null})`;
  return id;
}

const claim = (standingId: string, spendMicros = 0, escalationId: string = randomUUID(), now = NOW) =>
  claimStandingUseGrouped(database.db, { standingId, escalationId, digest: `d-${escalationId}`, spendMicros, now });

const counts = async (id: string) => (await sql<{ used_count: number; spent_micros: string }[]>`select used_count, spent_micros from standing_approvals where id = ${id}`)[0]!;

describe('grouped standing-approval claims', () => {
  it('grant exactly the count limit out of 50 concurrent claims, numbered 1 to the limit, in fewer statements than claims', async () => {
    const id = await grant({ maxCount: 10 });
    const results = await Promise.all(Array.from({ length: 50 }, () => claim(id)));
    const granted = results.filter((r) => r.kind === 'claimed');
    expect(granted).toHaveLength(10);
    expect(results.filter((r) => r.kind === 'refused')).toHaveLength(40);
    expect(granted.map((r) => (r.kind === 'claimed' ? r.useNumber : 0)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await counts(id)).used_count).toBe(10);
    const uses = await sql<{ n: number; tx: number }[]>`select count(*)::int as n, count(distinct xmin::text)::int as tx from standing_approval_uses where standing_id = ${id}`;
    expect(uses[0]!.n).toBe(10);
    // Claims arriving together shared one lock and one commit on the row.
    expect(uses[0]!.tx).toBeLessThan(10);
  });

  it('never pass the spend limit, and refuse only a claim that does not fit when it is asked', async () => {
    const id = await grant({ maxCount: 1000, maxSpendMicros: 1_000e6 });
    const spends = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? 90e6 : i % 3 === 1 ? 35e6 : 10e6));
    const results = await Promise.all(spends.map((s) => claim(id, s)));
    const spent = results.reduce((sum, r, i) => sum + (r.kind === 'claimed' ? spends[i]! : 0), 0);
    const after = await counts(id);
    expect(Number(after.spent_micros)).toBe(spent);
    expect(spent).toBeLessThanOrEqual(1_000e6);
    // A refused claim did not fit what was left at the end either (spend only grows).
    results.forEach((r, i) => {
      if (r.kind === 'refused') expect(spent + spends[i]!).toBeGreaterThan(1_000e6);
    });
    // The smallest claims fit after larger ones were cut off: a group's refusal is asked again alone.
    expect(results.filter((r, i) => r.kind === 'claimed' && spends[i] === 10e6).length).toBeGreaterThan(0);
  });

  it('answer duplicate for an escalation id that already holds a use, and still grant the others of its group', async () => {
    const id = await grant({ maxCount: 100 });
    const held = randomUUID();
    expect(await claimStandingUse(database.db, { standingId: id, escalationId: held, digest: 'x', spendMicros: 0, now: NOW })).toMatchObject({ kind: 'claimed', useNumber: 1 });
    const results = await Promise.all([claim(id), claim(id, 0, held), claim(id), claim(id)]);
    expect(results.map((r) => r.kind)).toEqual(['claimed', 'duplicate', 'claimed', 'claimed']);
    expect((await counts(id)).used_count).toBe(4);
  });

  it('grant nothing once revoked or expired', async () => {
    const revoked = await grant({ maxCount: 100 });
    await sql`update standing_approvals set revoked_at = ${NOW}, revoked_by = 'U0ADMIN' where id = ${revoked}`;
    const expired = await grant({ maxCount: 100, expiresAt: new Date(NOW.getTime() + 1000) });
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () => claim(revoked)),
      ...Array.from({ length: 5 }, () => claim(expired, 0, randomUUID(), new Date(NOW.getTime() + 1000))),
    ]);
    expect(results.every((r) => r.kind === 'refused')).toBe(true);
    expect(await sql`select 1 from standing_approval_uses where standing_id in (${revoked}, ${expired})`).toHaveLength(0);
  });
});
