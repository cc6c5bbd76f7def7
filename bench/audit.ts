import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { sealChain, verifyChain } from '../src/db/queries/audit-chain.js';
import { now } from './stats.js';

/**
 * The audit hash chain: seal `n` events (seeded in one statement, shaped like
 * the bot's own) and verify them. Sealing runs behind the hot path in batches;
 * verify must walk ≥ 100,000 records/s.
 */
export async function auditBench(dbUrl: string, n: number): Promise<{ sealPerSec: number; verifyPerSec: number; checked: number }> {
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  const database = await openDatabase({ url: dbUrl, dataDir: '/nonexistent', max: 2 });
  try {
    await sql`insert into events (escalation_id, execution_id, type, actor, at, data)
      select gen_random_uuid(), 'exec-' || g, 'decision_attempted', 'U0APPROVER1', now() - interval '1 hour',
        jsonb_build_object('kind', 'approve', 'channel', 'C0REFUNDS1', 'digest', md5(g::text) || md5((g + 1)::text), 'outcome', 'made')
      from generate_series(1, ${n}) g`;
    let t = now();
    let sealed = 0;
    for (let s = -1; s !== 0; ) {
      s = await sealChain(database.db, { batch: 20_000, lagMs: 0 });
      sealed += s;
    }
    const sealPerSec = sealed / ((now() - t) / 1000);
    t = now();
    const r = await verifyChain(database.db);
    const verifyPerSec = (r.kind === 'ok' ? r.checked : 0) / ((now() - t) / 1000);
    if (r.kind !== 'ok') throw new Error(`verify failed on a clean chain at event ${r.eventId}`);
    return { sealPerSec, verifyPerSec, checked: r.checked };
  } finally {
    await sql.end();
    await database.close();
  }
}
