import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { sealChain } from '../../src/db/queries/audit-chain.js';
import { runCli } from '../support/cli.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;
let database: Database;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createMigratedDb();
  ({ database, sql } = db);
  for (let i = 0; i < 20; i++) await sql`insert into events (type, actor, at, data) values ('received', 'system', now() - interval '1 minute', ${sql.json({ i })})`;
  await sealChain(database.db, { lagMs: 0 });
});
afterAll(async () => {
  await db?.close();
});

const verify = (env: Record<string, string> = {}) => runCli(['audit', 'verify'], { env: { DATABASE_URL: db.url, ...env } });

describe('countersign audit verify', () => {
  it('says OK with the count when the chain holds', async () => {
    const r = await verify();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audit chain OK: 20 records/);
  });

  it('runs with a bot token set without its signing secret: only --anchors reads Slack, and only the token', async () => {
    const r = await verify({ SLACK_BOT_TOKEN: 'xoxb-1' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^audit chain OK: 20 records/);
  });

  it('exits 3 and names the first broken record after an out-of-band edit', async () => {
    const [target] = await sql`select id from events order by id offset 7 limit 1`;
    await sql.unsafe('alter table events disable trigger events_append_only_rows');
    await sql.unsafe(`update events set actor = 'mallory' where id = ${target!.id}`);
    await sql.unsafe('alter table events enable always trigger events_append_only_rows');
    const r = await verify();
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`BROKEN at event ${target!.id}: the event was changed after it was sealed (7 records before it verified)`);
  });
}, 60_000);
