import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { sealChain, verifyChain } from '../../src/db/queries/audit-chain.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;
let database: Database;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createMigratedDb();
  ({ database, sql } = db);
});
afterAll(async () => {
  await db?.close();
});

/** A superuser's out-of-band edit: triggers off, change, triggers on. */
async function tamper(statement: string): Promise<void> {
  await sql.unsafe(`alter table events disable trigger events_append_only_rows`);
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.unsafe(`alter table events enable always trigger events_append_only_rows`);
  }
}

describe('the audit hash chain', () => {
  it('seals events in id order and verifies green', async () => {
    for (let i = 0; i < 250; i++) {
      await sql`insert into events (type, actor, at, data) values ('received', ${`agent:a${i}`}, now() - interval '1 minute', ${sql.json({ n: i, nested: { b: 1, a: [1, 2] } })})`;
    }
    expect(await sealChain(database.db, { batch: 100, lagMs: 0 })).toBe(100);
    expect(await sealChain(database.db, { batch: 1000, lagMs: 0 })).toBe(150);
    expect(await sealChain(database.db, { lagMs: 0 })).toBe(0);
    expect(await verifyChain(database.db, { pageSize: 64 })).toMatchObject({ kind: 'ok', checked: 250, unsealed: 0 });
  });

  it('leaves events younger than the lag for a later pass, and counts them as unsealed', async () => {
    await sql`insert into events (type, actor, data) values ('received', 'agent:late', '{}')`;
    expect(await sealChain(database.db, { lagMs: 60_000 })).toBe(0);
    expect(await verifyChain(database.db)).toMatchObject({ kind: 'ok', unsealed: 1 });
    expect(await sealChain(database.db, { lagMs: 0 })).toBe(1);
  });

  it('waits for an event with a lower id and a later start than the next one, instead of passing over it for good', async () => {
    // Concurrent transactions: the first takes its id before the second, but started after it.
    const [young] = await sql`insert into events (type, actor, data) values ('received', 'agent:started-late', '{}') returning id`;
    const [old] = await sql`insert into events (type, actor, at, data) values ('received', 'agent:started-early', now() - interval '1 minute', '{}') returning id`;
    expect(await sealChain(database.db, { lagMs: 30_000 })).toBe(0);
    expect(await sealChain(database.db, { lagMs: 0 })).toBe(2);
    const sealed = await sql`select event_id from audit_chain where event_id in (${young!.id}, ${old!.id}) order by event_id`;
    expect(sealed.map((r) => r.event_id)).toEqual([young!.id, old!.id]);
    expect(await verifyChain(database.db)).toMatchObject({ kind: 'ok', unsealed: 0 });
  });

  it('names the first record a superuser changed with the triggers off', async () => {
    const [target] = await sql`select id from events order by id offset 120 limit 1`;
    await tamper(`update events set data = '{"n": 9999}' where id = ${target!.id}`);
    expect(await verifyChain(database.db, { pageSize: 64 })).toMatchObject({ kind: 'broken', eventId: Number(target!.id), reason: 'changed', checked: 120 });
  });

  it('names a deleted record', async () => {
    const [first] = await sql`select id from events order by id limit 1`;
    await tamper(`delete from events where id = ${first!.id}`);
    expect(await verifyChain(database.db)).toMatchObject({ kind: 'broken', eventId: Number(first!.id), reason: 'missing', checked: 0 });
  });

  it('refuses edits to the chain itself', async () => {
    await expect(sql`update audit_chain set hash = 'x'`).rejects.toThrow(/append-only/);
  });
});
