import type { DbOrTx } from '../client.js';

export type Run = (text: string, params: string[]) => Promise<Array<Record<string, unknown>>>;

/** The driver underneath: postgres.js (prepared, one round trip) or PGlite; undefined for a transaction handle. */
export function runnerOf(db: DbOrTx): Run | undefined {
  const client = (db as { $client?: unknown }).$client as
    | { unsafe?: (t: string, p: string[], o: { prepare: boolean }) => Promise<Array<Record<string, unknown>>>; query?: (t: string, p: string[]) => Promise<{ rows: Array<Record<string, unknown>> }> }
    | undefined;
  if (typeof client?.unsafe === 'function') return (t, p) => client.unsafe!(t, p, { prepare: true });
  if (typeof client?.query === 'function') return async (t, p) => (await client.query!(t, p)).rows;
  return undefined;
}
