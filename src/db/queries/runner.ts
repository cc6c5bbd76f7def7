import type { DbOrTx } from '../client.js';

export type Run = (text: string, params: string[]) => Promise<Array<Record<string, unknown>>>;

/**
 * The driver underneath: postgres.js or PGlite; undefined for a transaction handle.
 * `prepared` (default): a named statement, planned once and kept (one round trip).
 * `planned each time`: unnamed, so Postgres plans it against the table as it is now;
 * for statements whose best plan changes as a table grows from empty, where a plan
 * kept from a small table (a sequential scan) would be reused until the next ANALYZE.
 */
export function runnerOf(db: DbOrTx, plan: 'prepared' | 'planned each time' = 'prepared'): Run | undefined {
  const client = (db as { $client?: unknown }).$client as
    | { unsafe?: (t: string, p: string[], o: { prepare: boolean }) => Promise<Array<Record<string, unknown>>>; query?: (t: string, p: string[]) => Promise<{ rows: Array<Record<string, unknown>> }> }
    | undefined;
  if (typeof client?.unsafe === 'function') return (t, p) => client.unsafe!(t, p, { prepare: plan === 'prepared' });
  if (typeof client?.query === 'function') return async (t, p) => (await client.query!(t, p)).rows;
  return undefined;
}
