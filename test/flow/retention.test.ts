import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { sealChain, verifyChain } from '../../src/db/queries/audit-chain.js';
import { pruneAudit } from '../../src/db/queries/audit-anchor.js';
import { applyRetention } from '../../src/flow/retention.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BOT_ROLE = 'countersign_test_bot';
const silent = { info() {}, warn() {}, error() {}, debug() {} };

let db: MigratedDb;
/** The database's clock: the rows below are aged by its now(), and so is the prune guard, so the flow must use it too (the test's Node clock may differ, as under faketime). */
let dbNow: Date;
let ports: Parameters<typeof applyRetention>[0];

const config = (retention: string) =>
  parseConfig(
    `
routes:
  - name: default
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }
audit:
  retention: ${retention}
`,
    'test',
  );

async function addEvents(n: number, age: string): Promise<void> {
  for (let i = 0; i < n; i++) await db.sql`insert into events (type, actor, at, data) values ('received', 'system', now() - ${age}::interval, ${db.sql.json({ i, age })})`;
}
const count = async (table: string) => (await db.sql.unsafe(`select count(*)::int as n from ${table}`))[0]!.n as number;
const verifyCli = () =>
  run('./bin/countersign', ['audit', 'verify'], { cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url } }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

beforeAll(async () => {
  db = await createMigratedDb();
  dbNow = (await db.sql<{ now: Date }[]>`select now()`)[0]!.now;
  const loaded = config('{ months: 12 }');
  ports = { db: db.database.db, config: { current: () => loaded }, now: () => dbNow, log: silent };
  await addEvents(10, '400 days');
  await addEvents(5, '2 minutes');
  await db.sql`insert into spend_ledger (agent_id, execution_id, kind, usd_micros, at) values ('a', 'old', 'cost', 1, now() - interval '400 days'), ('a', 'new', 'cost', 2, now())`;
  await db.sql`insert into escalations (id, status, created_at) values
    (gen_random_uuid(), 'approved', now() - interval '400 days'), (gen_random_uuid(), 'pending', now() - interval '400 days'), (gen_random_uuid(), 'approved', now())`;
  await sealChain(db.database.db, { lagMs: 0 });
});
afterAll(async () => {
  await db?.close();
});

describe('retention', () => {
  it('prunes expired records in one audited step, records a checkpoint, and verify stays green', async () => {
    const r = await applyRetention(ports);
    expect(r).toMatchObject({ kind: 'pruned', result: { prunedUpTo: 10, events: 10 } });
    const [cp] = await db.sql<{ pruned_up_to_event_id: string; hash: string; by: string; deleted: Record<string, number> }[]>`select * from audit_checkpoints`;
    expect(cp).toMatchObject({ pruned_up_to_event_id: '10', by: 'system:retention', deleted: { events: 10, auditChain: 10, spendLedger: 1, escalations: 1, outcomes: 0 } });
    expect(await count('events')).toBe(6); // 5 young ones and the audit_pruned record
    expect((await db.sql`select data from events where type = 'audit_pruned'`)[0]!.data).toMatchObject({ prunedUpTo: 10, hash: cp!.hash });
    expect(await count('spend_ledger')).toBe(1);
    expect(await db.sql`select status from escalations order by status`).toEqual([{ status: 'approved' }, { status: 'pending' }]);

    expect(await verifyChain(db.database.db)).toMatchObject({ kind: 'ok', checked: 5, prunedUpTo: 10 });
    await sealChain(db.database.db, { lagMs: 0 });
    expect(await verifyChain(db.database.db)).toMatchObject({ kind: 'ok', checked: 6 });
    const cli = await verifyCli();
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^audit chain OK: 6 records .*starting after the checkpoint at event 10/);
  });

  it('prunes in bounded steps, each with its own checkpoint, and verify follows the last', async () => {
    const other = await createMigratedDb();
    try {
      for (let i = 0; i < 7; i++) await other.sql`insert into events (type, actor, at, data) values ('received', 'system', now() - interval '400 days', '{}')`;
      await other.sql`insert into events (type, actor, at, data) values ('received', 'system', now() - interval '2 minutes', '{}')`;
      await sealChain(other.database.db, { lagMs: 0 });
      const loaded = config('{ years: 1 }');
      const r = await applyRetention({ db: other.database.db, config: { current: () => loaded }, now: () => dbNow, log: silent }, 3);
      expect(r).toMatchObject({ kind: 'pruned', steps: 3, result: { prunedUpTo: 7, events: 7 } });
      expect((await other.sql`select pruned_up_to_event_id::int as n from audit_checkpoints order by id`).map((c) => c.n)).toEqual([3, 6, 7]);
      expect(await verifyChain(other.database.db)).toMatchObject({ kind: 'ok', checked: 1, prunedUpTo: 7 });
    } finally {
      await other.close();
    }
  });

  it('is idempotent: a second run the same day prunes nothing and records nothing', async () => {
    expect(await applyRetention(ports)).toMatchObject({ kind: 'skipped', reason: 'nothing_expired' });
    expect(await count('audit_checkpoints')).toBe(1);
    expect(await count("events where type = 'audit_pruned'")).toBe(1);
  });

  it('still refuses a direct DELETE, and the checkpoints themselves are append-only', async () => {
    await expect(db.sql`delete from events where id = 12`).rejects.toThrow(/append-only/);
    await expect(db.sql`delete from audit_chain where event_id = 12`).rejects.toThrow(/append-only/);
    await expect(db.sql`delete from spend_ledger`).rejects.toThrow(/append-only/);
    await expect(db.sql`update audit_checkpoints set hash = 'x'`).rejects.toThrow(/append-only/);
    await expect(db.sql`delete from audit_checkpoints`).rejects.toThrow(/append-only/);
  });

  it('lets only the prune function write checkpoints, and verify names a forged one that leaves events behind', async () => {
    await db.sql.unsafe(`DO $$ BEGIN CREATE ROLE ${BOT_ROLE} LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
    await db.sql.unsafe(`GRANT countersign_app TO ${BOT_ROLE}`);
    const app = postgres(db.url.replace('//root@', `//${BOT_ROLE}@`), { max: 1, onnotice: () => {} });
    try {
      await expect(app`insert into audit_checkpoints (pruned_up_to_event_id, hash, cutoff, deleted, by) values (12, 'x', now(), '{}', 'app')`).rejects.toThrow(/permission denied/);
    } finally {
      await app.end();
    }
    const other = await createMigratedDb();
    try {
      for (let i = 0; i < 4; i++) await other.sql`insert into events (type, actor, data) values ('received', 'system', '{}')`;
      await sealChain(other.database.db, { lagMs: 0 });
      const [link] = await other.sql<{ hash: string }[]>`select hash from audit_chain where event_id = 3`;
      await other.sql`insert into audit_checkpoints (pruned_up_to_event_id, hash, cutoff, deleted, by) values (3, ${link!.hash}, now() - interval '1 year', '{}', 'mallory')`;
      expect(await verifyChain(other.database.db)).toMatchObject({ kind: 'broken', eventId: 1, reason: 'unpruned' });
    } finally {
      await other.close();
    }
  });

  it('refuses a cutoff less than 31 days ago', async () => {
    const err = await pruneAudit(db.database.db, new Date(dbNow.getTime() - 86_400_000), 'test').catch((e: Error) => e);
    expect(String((err as Error).cause ?? err)).toMatch(/less than 31 days ago/);
  });

  it('lets the app role prune only through the function', async () => {
    await db.sql.unsafe(`DO $$ BEGIN CREATE ROLE ${BOT_ROLE} LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
    await db.sql.unsafe(`GRANT countersign_app TO ${BOT_ROLE}`);
    const app = postgres(db.url.replace('//root@', `//${BOT_ROLE}@`), { max: 1, onnotice: () => {} });
    try {
      await expect(
        app.begin(async (tx) => {
          await tx`select set_config('countersign.prune_up_to', '1000', true)`;
          await tx`delete from events`;
        }),
      ).rejects.toThrow(/permission denied for table events/);
      expect(await app`select * from countersign_prune_audit(now() - interval '40 days', 'test')`).toHaveLength(0);
    } finally {
      await app.end();
    }
  });

  it('goes on sealing from the checkpoint when a prune took every link', async () => {
    const other = await createMigratedDb();
    try {
      for (let i = 0; i < 5; i++) await other.sql`insert into events (type, actor, at, data) values ('received', 'system', now() - interval '400 days', '{}')`;
      await sealChain(other.database.db, { lagMs: 0 });
      expect(await pruneAudit(other.database.db, new Date(dbNow.getTime() - 365 * 86_400_000), 'test')).toMatchObject({ prunedUpTo: 5, events: 5 });
      expect((await other.sql`select count(*)::int as n from audit_chain`)[0]!.n).toBe(0);
      expect(await sealChain(other.database.db, { lagMs: 0 })).toBe(1); // the audit_pruned record
      expect(await verifyChain(other.database.db)).toMatchObject({ kind: 'ok', checked: 1, prunedUpTo: 5 });
    } finally {
      await other.close();
    }
  });
});
