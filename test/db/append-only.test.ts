import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createTestDatabase } from '../support/services.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createTestDatabase();
  const database = await openDatabase({ url: db.url, dataDir: '/nonexistent', max: 1 });
  await runMigrations(database, db.url);
  await database.close();
  sql = postgres(db.url, { max: 1, onnotice: () => {} });
  await sql`insert into events (type, actor, data) values ('received', 'system', '{}')`;
  await sql`insert into spend_ledger (agent_id, execution_id, kind, usd_micros) values ('a', 'e', 'cost', 10)`;
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

describe('the event trail and the spend ledger', () => {
  it.each([
    ['UPDATE events', `update events set actor = 'mallory'`],
    ['DELETE FROM events', `delete from events`],
    ['TRUNCATE events', `truncate events`],
    ['UPDATE spend_ledger', `update spend_ledger set usd_micros = 0`],
    ['DELETE FROM spend_ledger', `delete from spend_ledger`],
    ['TRUNCATE spend_ledger', `truncate spend_ledger`],
  ])('refuse %s, even to a superuser', async (_name, statement) => {
    await expect(sql.unsafe(statement)).rejects.toThrow(/append-only/);
  });

  it('refuse changes even with session_replication_role = replica', async () => {
    await expect(
      sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update events set actor = 'mallory'`;
      }),
    ).rejects.toThrow(/append-only/);
    expect((await sql`select actor from events`)[0]!.actor).toBe('system');
  });

  it('still take inserts', async () => {
    await sql`insert into events (type, actor, data) values ('expired', 'system', '{}')`;
    expect((await sql`select count(*)::int as n from events`)[0]!.n).toBe(2);
  });
});
