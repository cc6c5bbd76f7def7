import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { openDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createTestDatabase } from '../support/services.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('migrations', () => {
  it('apply once when four replicas start at the same moment', async () => {
    const replicas = await Promise.all(Array.from({ length: 4 }, () => openDatabase({ url: db.url, dataDir: '/nonexistent', max: 2 })));
    try {
      await Promise.all(replicas.map((r) => runMigrations(r, db.url)));
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const applied = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      const tables = await sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`;
      expect(applied[0]!.n).toBeGreaterThanOrEqual(1);
      expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['escalations', 'events']));
      // Running again is a no-op.
      const again = await openDatabase({ url: db.url, dataDir: '/nonexistent' });
      await runMigrations(again, db.url);
      await again.close();
      const after = await sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(after[0]!.n).toBe(applied[0]!.n);
    } finally {
      await sql.end();
    }
  });
});
