import postgres from 'postgres';
import { openDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createTestDatabase } from './services.js';

export interface MigratedDb {
  url: string;
  /** The app's own handle (drizzle), as the bot would use it. */
  database: Database;
  /** A plain superuser connection, for setting up and for out-of-band edits. */
  sql: postgres.Sql;
  close(): Promise<void>;
}

/** A fresh database with every migration applied; `max`: the app handle's pool (default 2). */
export async function createMigratedDb(opts: { max?: number } = {}): Promise<MigratedDb> {
  const testDb = await createTestDatabase();
  const database = await openDatabase({ url: testDb.url, dataDir: '/nonexistent', max: opts.max ?? 2 });
  await runMigrations(database, testDb.url);
  const sql = postgres(testDb.url, { max: 1, onnotice: () => {} });
  return {
    url: testDb.url,
    database,
    sql,
    async close() {
      await sql.end();
      await database.close();
      await testDb.drop();
    },
  };
}
