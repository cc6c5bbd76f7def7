import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { Database } from './client.js';
import { rowsOf } from './queries/agent-modes.js';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

/** Any fixed 64-bit key; replicas starting together queue on it. */
const MIGRATION_LOCK_KEY = 0x436f756e74657273n; // "Counters"

/**
 * Applies pending migrations. On a server, under a session advisory lock on a
 * dedicated connection, so that two replicas starting at once can't race.
 */
export async function runMigrations(database: Database, url: string | undefined): Promise<void> {
  if (database.kind === 'pglite' || !url) {
    const { migrate } = await import('drizzle-orm/pglite/migrator');
    await migrate(database.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    return;
  }
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  // max: 1 keeps lock, migration and unlock on one session.
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const db = drizzle(client);
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`);
    try {
      await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()}::bigint)`);
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** Whether the Countersign tables are there: false on an empty database nobody has migrated. */
export async function hasCountersignTables(database: Database): Promise<boolean> {
  const rows = rowsOf<{ ok: boolean }>(await database.db.execute(sql`select to_regclass('events') is not null and to_regclass('escalations') is not null as ok`));
  return rows[0]?.ok === true;
}
