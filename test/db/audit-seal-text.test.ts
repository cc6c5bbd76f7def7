import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { sealChain, verifyChain } from '../../src/db/queries/audit-chain.js';
import { GENESIS, linkHash } from '../../src/domain/audit-chain.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

/**
 * Postgres seals (countersign_seal hashes in SQL), the bot verifies (linkHash
 * in Node): both must read the same bytes for any text an agent may send.
 */
const TEXTS = [
  'plain ascii',
  'accents: déjà vu, Ærø, naïve',
  'CJK 漢字かな and Hangul 한국어',
  'emoji outside the BMP: 🧾💸 and a flag 🇳🇴',
  'combining: e\u0301 vs é',
  'quotes " \' and backslash \\ and a newline\nand a tab\t',
  'null-ish: \u0001 control',
  '',
];

async function seedAndSeal(db: Database): Promise<void> {
  for (const [i, text] of TEXTS.entries()) {
    await db.db.execute(sql`insert into events (escalation_id, execution_id, type, actor, at, data)
      values (null, ${i % 2 ? `exec-${text.slice(0, 8)}` : null}, 'received', ${`agent:${text.slice(0, 12)}`}, now() - interval '1 minute',
              ${JSON.stringify({ text, n: i, nested: { z: text, a: [text, i] } })}::jsonb)`);
  }
  // Two batches: the second goes on from the first one's head.
  expect(await sealChain(db.db, { batch: 3, lagMs: 0 })).toBe(3);
  expect(await sealChain(db.db, { lagMs: 0 })).toBe(TEXTS.length - 3);
}

/** The chain recomputed from scratch in Node, link by link, from Postgres' canonical text. */
async function recomputed(db: Database): Promise<{ ours: string[]; stored: string[] }> {
  const res = await db.db.execute(sql`select c.hash, json_build_array(e.id::text, e.escalation_id, e.execution_id, e.type, e.actor,
      (extract(epoch from e.at) * 1000000)::bigint::text, e.data)::text as canon
    from audit_chain c join events e on e.id = c.event_id order by c.event_id`);
  const rows = (Array.isArray(res) ? res : (res as unknown as { rows: unknown[] }).rows) as Array<{ hash: string; canon: string }>;
  let prev = GENESIS;
  const ours = rows.map((r) => (prev = linkHash(prev, r.canon)));
  return { ours, stored: rows.map((r) => r.hash) };
}

describe('sealing in Postgres, verifying in the bot', () => {
  let pg: MigratedDb | undefined;
  let lite: Database | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await pg?.close();
    await lite?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('link every event exactly as linkHash does, for text beyond ASCII, on Postgres', async () => {
    pg = await createMigratedDb();
    await seedAndSeal(pg.database);
    const { ours, stored } = await recomputed(pg.database);
    expect(stored).toHaveLength(TEXTS.length);
    expect(stored).toEqual(ours);
    expect(await verifyChain(pg.database.db)).toMatchObject({ kind: 'ok', checked: TEXTS.length, unsealed: 0 });
  });

  it('and the same on the embedded PGlite', async () => {
    dir = mkdtempSync(join(tmpdir(), 'countersign-seal-'));
    lite = await openDatabase({ url: undefined, dataDir: dir });
    await runMigrations(lite, undefined);
    await seedAndSeal(lite);
    const { ours, stored } = await recomputed(lite);
    expect(stored).toEqual(ours);
    expect(await verifyChain(lite.db)).toMatchObject({ kind: 'ok', checked: TEXTS.length, unsealed: 0 });
  }, 60_000);
});
