import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { exportAudit, searchAudit } from '../../src/db/queries/audit-search.js';
import { parseAuditQuery, type AuditRecord } from '../../src/domain/audit-query.js';
import { streamExport } from '../../src/flow/audit-export.js';
import { createRedactor } from '../../src/domain/redact.js';
import { seedAudit } from '../../scripts/seed-audit.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const MB = 1024 * 1024;
const ROWS = 200_000;

let m: MigratedDb;
beforeAll(async () => {
  m = await createMigratedDb();
  await seedAudit(m.sql, { rows: ROWS, days: 30 });
}, 240_000);
afterAll(async () => {
  await m?.close();
});

const everything = () => {
  const p = parseAuditQuery({ from: '2000-01-01', to: '2100-01-01' });
  if (!p.ok) throw new Error('bad range');
  return p.value.filter;
};

describe('audit export of 200,000 records', () => {
  it('streams to a slow reader with bounded memory: the heap never holds more than a few batches', async () => {
    gc();
    const base = process.memoryUsage().heapUsed;
    let bytes = 0;
    let lines = 0;
    let peak = 0;
    let nextCheck = 0;
    // A reader slower than the database: one chunk per event-loop turn, a 16 KiB buffer.
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
        if (lines >= nextCheck) {
          nextCheck += 20_000;
          gc();
          peak = Math.max(peak, process.memoryUsage().heapUsed - base);
        }
        setImmediate(cb);
      },
    });
    const n = await streamExport(m.database.db, everything(), 'jsonl', sink, createRedactor());
    expect(n).toBe(ROWS);
    expect(lines).toBe(ROWS);
    // Holding the output would take `bytes`, holding the rows as objects several times that.
    expect(bytes).toBeGreaterThan(60 * MB);
    expect(peak).toBeLessThan(30 * MB);
  }, 180_000);
});

describe('audit export on PGlite', () => {
  it('streams through the same server-side cursor as on Postgres', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cs-audit-pglite-'));
    const database = await openDatabase({ url: undefined, dataDir: dir });
    try {
      await runMigrations(database, undefined);
      for (let i = 0; i < 30; i++) {
        await database.db.execute(
          `insert into escalations (id, status, agent_id, action_type, execution_id, created_at) values (gen_random_uuid(), 'allowed', 'pglite-agent', 'crm.read', 'exec-${i}', now() - interval '${i} minutes')` as never,
        );
      }
      const sizes: number[] = [];
      const got: AuditRecord[] = [];
      const n = await exportAudit(database.db, everything(), async (b) => void (sizes.push(b.length), got.push(...b)), { batch: 7 });
      expect(n).toBe(30);
      expect(sizes).toEqual([7, 7, 7, 7, 2]);
      const q = parseAuditQuery({ agent: 'pglite-agent' }, { limit: 50 });
      if (!q.ok) throw new Error('bad query');
      expect(got).toEqual((await searchAudit(database.db, q.value)).records.reverse());
    } finally {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
