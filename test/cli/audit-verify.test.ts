import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { sealChain } from '../../src/db/queries/audit-chain.js';
import { createTestDatabase } from '../support/services.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
let database: Database;
let sql: postgres.Sql;

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = await openDatabase({ url: testDb.url, dataDir: '/nonexistent', max: 2 });
  await runMigrations(database, testDb.url);
  sql = postgres(testDb.url, { max: 1, onnotice: () => {} });
  for (let i = 0; i < 20; i++) await sql`insert into events (type, actor, at, data) values ('received', 'system', now() - interval '1 minute', ${sql.json({ i })})`;
  await sealChain(database.db, { lagMs: 0 });
});
afterAll(async () => {
  await sql?.end();
  await database?.close();
  await testDb?.drop();
});

const verify = () =>
  run('./bin/countersign', ['audit', 'verify'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: testDb.url } }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

describe('countersign audit verify', () => {
  it('says OK with the count when the chain holds', async () => {
    const r = await verify();
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
