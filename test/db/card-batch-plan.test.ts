import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEscalationGrouped, markCardPostedRecordedGrouped } from '../../src/db/queries/card-batch.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;

beforeAll(async () => {
  // One connection, so that the statements it keeps can be listed from it.
  db = await createMigratedDb({ max: 1 });
});
afterAll(async () => {
  await db?.close();
});

async function pending(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  await db.sql`insert into escalations ${db.sql(ids.map((id) => ({ id, status: 'pending', digest: `d-${id}`, card_state: 'posting' })))}`;
  return ids;
}

describe('the grouped card-posted update', () => {
  it('keeps no plan between runs, so a table that grew from empty is never scanned whole, while the grouped read stays prepared', async () => {
    // Postgres keeps a generic plan for a prepared statement after five runs; made while the
    // table was small, that plan scanned the whole table once per batch as the table grew.
    for (let round = 0; round < 8; round++) {
      const ids = await pending(5);
      const marked = await Promise.all(
        ids.map((id, i) =>
          markCardPostedRecordedGrouped(db.database.db, id, `${round}.00000${i}`, { escalationId: id, executionId: null, type: 'card_posted', actor: 'system', data: {} }),
        ),
      );
      expect(marked.every((m) => m?.status === 'pending')).toBe(true);
      await Promise.all(ids.map((id) => getEscalationGrouped(db.database.db, id)));
    }
    const kept = await db.database.db.execute(sql`select statement from pg_prepared_statements`);
    const texts = (kept as unknown as Array<{ statement: string }>).map((r) => r.statement);
    expect(texts.some((t) => t.includes('= any(array(select jsonb_array_elements_text'))).toBe(true);
    expect(texts.filter((t) => t.includes('card_ts is null for update'))).toEqual([]);
  });
});
