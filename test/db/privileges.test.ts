import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { sealChain, verifyChain } from '../../src/db/queries/audit-chain.js';
import { recordEvents } from '../../src/db/queries/events.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

/** A login role in the app's group, as docs/audit.md tells operators to create; roles are cluster-wide. */
const BOT_ROLE = 'countersign_test_bot';

let db: MigratedDb;
let root: postgres.Sql;
let app: postgres.Sql;
let appDatabase: Database;

beforeAll(async () => {
  db = await createMigratedDb();
  root = db.sql;
  await root.unsafe(`DO $$ BEGIN CREATE ROLE ${BOT_ROLE} LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
  await root.unsafe(`GRANT countersign_app TO ${BOT_ROLE}`);
  const appUrl = db.url.replace('//root@', `//${BOT_ROLE}@`);
  app = postgres(appUrl, { max: 1, onnotice: () => {} });
  appDatabase = await openDatabase({ url: appUrl, dataDir: '/nonexistent', max: 2 });
  for (let i = 0; i < 10; i++) await root`insert into events (type, actor, at, data) values ('received', 'system', now() - interval '1 minute', ${root.json({ i })})`;
  await root`insert into spend_ledger (agent_id, execution_id, kind, usd_micros) values ('a', 'e', 'cost', 10)`;
});
afterAll(async () => {
  await app?.end();
  await appDatabase?.close();
  await db?.close();
});

const AUDIT_TABLES = ['events', 'audit_chain', 'spend_ledger'] as const;
const CHANGE = { events: `actor = 'mallory'`, audit_chain: `hash = 'x'`, spend_ledger: 'usd_micros = 0' } as const;
const TRIGGERS = AUDIT_TABLES.flatMap((t) => [`${t}_append_only_rows`, `${t}_append_only_truncate`].map((trigger) => ({ t, trigger })));

async function withTriggersDisabled<T>(fn: () => Promise<T>): Promise<T> {
  for (const { t, trigger } of TRIGGERS) await root.unsafe(`alter table ${t} disable trigger ${trigger}`);
  try {
    return await fn();
  } finally {
    for (const { t, trigger } of TRIGGERS) await root.unsafe(`alter table ${t} enable always trigger ${trigger}`);
  }
}

describe('the app role (a login role in countersign_app)', () => {
  it('inserts and reads events, seals them into the chain and verifies it, through the app’s own queries', async () => {
    await recordEvents(appDatabase.db, [{ type: 'received', actor: 'system', data: { by: 'app' } }]);
    await app`insert into spend_ledger (agent_id, execution_id, kind, usd_micros) values ('a', 'e', 'cost', 5)`;
    expect((await app`select count(*)::int as n from events`)[0]!.n).toBe(11);
    expect(await sealChain(appDatabase.db, { lagMs: 0 })).toBe(11);
    expect(await verifyChain(appDatabase.db)).toMatchObject({ kind: 'ok', checked: 11 });
  });

  it('updates the state it owns: escalations', async () => {
    await app`insert into escalations (id, status) values (gen_random_uuid(), 'pending')`;
    const updated = await app`update escalations set status = 'approved' where status = 'pending' returning id`;
    expect(updated).toHaveLength(1);
  });

  it.each(AUDIT_TABLES.flatMap((t) => [
    [`UPDATE ${t}`, `update ${t} set ${CHANGE[t]}`],
    [`DELETE FROM ${t}`, `delete from ${t}`],
    [`TRUNCATE ${t}`, `truncate ${t}`],
  ]))('is refused %s by privileges, even with the triggers disabled', async (_name, statement) => {
    await withTriggersDisabled(async () => {
      await expect(app.unsafe(statement)).rejects.toThrow(/permission denied for table/);
    });
    expect((await root`select count(*)::int as n from events`)[0]!.n).toBe(11);
  });

  it('cannot switch the triggers off itself', async () => {
    await expect(app.unsafe('alter table events disable trigger events_append_only_rows')).rejects.toThrow(/must be owner/);
  });
});

describe('a superuser', () => {
  it.each(AUDIT_TABLES.flatMap((t) => [
    [`UPDATE ${t}`, `update ${t} set ${CHANGE[t]}`],
    [`DELETE FROM ${t}`, `delete from ${t}`],
    [`TRUNCATE ${t}`, `truncate ${t}`],
  ]))('is refused %s by the triggers', async (_name, statement) => {
    await expect(root.unsafe(statement)).rejects.toThrow(/append-only/);
  });

  it('who deletes an event with the triggers off is caught by verify at that event', async () => {
    const [target] = await root`select id from events order by id offset 4 limit 1`;
    await withTriggersDisabled(() => root`delete from events where id = ${target!.id}`);
    expect(await verifyChain(appDatabase.db)).toMatchObject({ kind: 'broken', eventId: Number(target!.id), reason: 'missing', checked: 4 });
  });
});
