import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import type { Database } from '../../src/db/client.js';
import { getEscalationGrouped, markCardPostedRecordedGrouped } from '../../src/db/queries/card-batch.js';
import { getEscalation, insertEscalation, markCardPostedRecorded } from '../../src/db/queries/escalations.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;
let database: Database;
let sql: postgres.Sql;

beforeAll(async () => {
  // Pool of 4: concurrent callers must be able to share group statements.
  db = await createMigratedDb({ max: 4 });
  ({ database, sql } = db);
});
afterAll(async () => {
  await db?.close();
});

async function pending(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  for (const id of ids) {
    await insertEscalation(database.db, {
      id,
      status: 'pending',
      digest: `d-${id}`,
      executionId: 'exec-1',
      agentId: 'support-agent',
      channel: 'C0REFUNDS1',
      request: { id, nested: { a: [1, 'two'] } },
      cardState: 'posting',
      deadline: new Date('2030-01-01T00:00:00Z'),
    });
  }
  return ids;
}
const posted = (id: string, ts: string) => ({ escalationId: id, executionId: 'exec-1', type: 'card_posted' as const, actor: 'system', data: { channel: 'C0REFUNDS1', ts, reconciled: false } });
const paged = (id: string) => ({ escalationId: id, executionId: 'exec-1', type: 'paged' as const, actor: 'system', data: { user: 'U0PRIMARY01' } });

describe('grouped card-path statements', () => {
  it('read the same rows as getEscalation, for concurrent callers, repeated and unknown ids alike', async () => {
    const ids = await pending(12);
    const unknown = randomUUID();
    const asked = [...ids, ids[0]!, unknown];
    const grouped = await Promise.all(asked.map((id) => getEscalationGrouped(database.db, id)));
    const single = await Promise.all(asked.map((id) => getEscalation(database.db, id)));
    expect(grouped).toEqual(single);
    expect(grouped.at(-1)).toBeUndefined();
    expect(grouped[0]!.deadline).toEqual(new Date('2030-01-01T00:00:00Z'));
  });

  it('record each card once with its own events, refuse a second ts, and answer like markCardPostedRecorded', async () => {
    const ids = await pending(20);
    const already = ids[0]!;
    await markCardPostedRecorded(database.db, already, '1.000000', posted(already, '1.000000'));
    const results = await Promise.all([
      // A second ts for a card already recorded, and the same card twice in flight.
      markCardPostedRecordedGrouped(database.db, already, '2.000000', posted(already, '2.000000')),
      markCardPostedRecordedGrouped(database.db, ids[1]!, '3.000001', posted(ids[1]!, '3.000001')),
      markCardPostedRecordedGrouped(database.db, ids[1]!, '3.000002', posted(ids[1]!, '3.000002')),
      ...ids.slice(2).map((id, i) => markCardPostedRecordedGrouped(database.db, id, `4.00000${i}`, i % 2 ? [posted(id, `4.00000${i}`), paged(id)] : posted(id, `4.00000${i}`))),
    ]);
    const [again, first, second, ...rest] = results;
    expect(again).toBeUndefined();
    expect([first, second].filter(Boolean)).toEqual([{ status: 'pending', reviewState: 'none' }]);
    expect(rest.every((r) => r?.status === 'pending' && r.reviewState === 'none')).toBe(true);

    const rows = await sql<{ id: string; card_state: string; card_ts: string }[]>`select id, card_state, card_ts from escalations where id = any(${ids}::uuid[])`;
    expect(rows.every((r) => r.card_state === 'posted' && r.card_ts)).toBe(true);
    expect(rows.find((r) => r.id === already)!.card_ts).toBe('1.000000');
    const events = await sql<{ escalation_id: string; type: string; ts: string | null }[]>`
      select escalation_id, type, data ->> 'ts' as ts from events where escalation_id = any(${ids}::uuid[]) order by id`;
    // One card_posted per card, with the ts that was recorded; paged only beside a card_posted that took.
    for (const r of rows) {
      const mine = events.filter((e) => e.escalation_id === r.id);
      expect(mine.filter((e) => e.type === 'card_posted').map((e) => e.ts)).toEqual([r.card_ts]);
    }
    expect(events.filter((e) => e.type === 'paged')).toHaveLength(9);
    const order = events.filter((e) => e.escalation_id === ids[3]).map((e) => e.type);
    expect(order).toEqual(['card_posted', 'paged']);
  });
});
