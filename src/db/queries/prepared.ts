import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../client.js';

/**
 * Hot statements are built once per database handle and key: drizzle's query
 * building costs more CPU than the round trip (about 0.2 ms for a guarded
 * UPDATE with its event CTE). Values go in as placeholders (`ph`). `prepare`
 * on the result only caches the SQL text; postgres.js prepares on the server
 * by text anyway.
 */
const statements = new WeakMap<object, Map<string, unknown>>();

export function prepared<Q>(db: DbOrTx, key: string, build: () => Q): Q {
  let byKey = statements.get(db);
  if (!byKey) statements.set(db, (byKey = new Map()));
  let q = byKey.get(key) as Q | undefined;
  if (q === undefined) byKey.set(key, (q = build()));
  return q;
}

/** A named placeholder, as an SQL fragment to cast (`sql\`${ph('at')}::timestamptz\``). */
export const ph = (name: string) => sql`${sql.placeholder(name)}`;
