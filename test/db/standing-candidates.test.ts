import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import type { Database } from '../../src/db/client.js';
import { CANDIDATES_TTL_MS, liveCandidates, type Candidates } from '../../src/db/queries/standing.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;
let database: Database;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createMigratedDb({ max: 4 });
  ({ database, sql } = db);
});
afterAll(async () => {
  await db?.close();
});

const T0 = new Date('2026-12-07T12:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

/** A standing approval for `agentId`'s purchases, valid for a day from T0. */
async function grant(agentId: string): Promise<string> {
  const id = randomUUID();
  await sql`insert into standing_approvals (id, agent_id, action_type, route, granted_by, granted_via, created_from, bounds, created_at, expires_at, max_count)
    values (${id}, ${agentId}, 'purchases.create', 'procurement', 'U0APPROVER2', 'user', ${randomUUID()}, '{}'::jsonb, ${T0}, ${at(86_400_000)}, 10)`;
  return id;
}

const look = (agentId: string, ms: number) => liveCandidates(database.db, { agentId, actionType: 'purchases.create', now: at(ms) });
const ids = async (p: Promise<Array<{ id: string }>>) => (await p).map((c) => c.id).sort();
/** Whether `rows` has settled already: an already-settled promise wins a race against one settled after it. */
const READING = Symbol('reading');
const settledNow = async (c: Candidates) => (await Promise.race([c.rows, Promise.resolve(READING)])) !== READING;

describe("an agent's standing-approval candidates, reused per process", () => {
  it('are read once within the reuse window: a grant made meanwhile elsewhere is not seen yet', async () => {
    const agent = `agent-${randomUUID()}`;
    const a = await grant(agent);
    expect(await ids(look(agent, 0).rows)).toEqual([a]);
    await grant(agent);
    const again = look(agent, CANDIDATES_TTL_MS - 1);
    expect(again.fresh).toBeUndefined();
    expect(await ids(again.rows)).toEqual([a]);
  });

  it('past the window, are handed out at once from the last read, with a fresh read beside them that finds the grant made since', async () => {
    const agent = `agent-${randomUUID()}`;
    const a = await grant(agent);
    await look(agent, 0).rows;
    const b = await grant(agent);
    const later = look(agent, CANDIDATES_TTL_MS);
    expect(await settledNow(later)).toBe(true);
    expect(await ids(later.rows)).toEqual([a]);
    expect(await ids(later.fresh!)).toEqual([a, b].sort());
    // The fresh read is the entry from then on.
    const next = look(agent, CANDIDATES_TTL_MS + 1);
    expect(next.fresh).toBeUndefined();
    expect(await ids(next.rows)).toEqual([a, b].sort());
  });

  it('past the window, are read again before anything is tried when the last read found none', async () => {
    const agent = `agent-${randomUUID()}`;
    expect(await look(agent, 0).rows).toEqual([]);
    const a = await grant(agent);
    const later = look(agent, CANDIDATES_TTL_MS);
    expect(later.fresh).toBeUndefined();
    expect(await settledNow(later)).toBe(false);
    expect(await ids(later.rows)).toEqual([a]);
  });
});
