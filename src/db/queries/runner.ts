import type { DbOrTx } from '../client.js';

/**
 * `prepared` (default): a named statement, planned once and kept (one round trip).
 * `planned each time`: unnamed, so Postgres plans it against the table as it is now;
 * for statements whose best plan changes as a table grows from empty, where a plan
 * kept from a small table (a sequential scan) would be reused until the next ANALYZE.
 */
export type Plan = 'prepared' | 'planned each time';

/** A bound value: the driver serialises it by the parameter's type (a boolean must be a boolean, not 'true'). */
export type Param = string | number | boolean | null;

export type Run = (text: string, params: Param[], plan?: Plan) => Promise<Array<Record<string, unknown>>>;

/** The driver underneath: postgres.js or PGlite; undefined for a transaction handle. */
export function runnerOf(db: DbOrTx): Run | undefined {
  const client = (db as { $client?: unknown }).$client as
    | { unsafe?: (t: string, p: Param[], o: { prepare: boolean }) => Promise<Array<Record<string, unknown>>>; query?: (t: string, p: Param[]) => Promise<{ rows: Array<Record<string, unknown>> }> }
    | undefined;
  if (typeof client?.unsafe === 'function') return (t, p, plan = 'prepared') => client.unsafe!(t, p, { prepare: plan === 'prepared' });
  if (typeof client?.query === 'function') return async (t, p) => (await client.query!(t, p)).rows;
  return undefined;
}
