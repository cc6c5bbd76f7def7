import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvents, type EventInput } from '../../src/db/queries/events.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let m: MigratedDb;

beforeAll(async () => {
  // Pool of 4: concurrent callers must be able to share group statements.
  m = await createMigratedDb({ max: 4 });
});
afterAll(async () => {
  await m?.close();
});

const eventsOf = (executionId: string) =>
  m.sql<{ id: string; type: string; actor: string; escalation_id: string | null; data: Record<string, unknown> }[]>`
    select id, type, actor, escalation_id, data from events where execution_id = ${executionId} order by id`;

describe('event inserts from concurrent callers', () => {
  it('commit every concurrent caller’s events, each caller’s in its own order, before the caller resumes', async () => {
    const callers = Array.from({ length: 30 }, (_, i) => {
      const executionId = `exec-group-${i}-${randomUUID()}`;
      const escalationId = i % 3 === 0 ? null : randomUUID();
      const list: EventInput[] = Array.from({ length: 1 + (i % 3) }, (_, k) => ({
        escalationId,
        executionId,
        type: k === 0 ? 'decision_attempted' : 'agent_notified',
        actor: `U0CALLER${i}`,
        data: { k, text: `caller ${i} event ${k}`, nested: { list: [i, k] } },
      }));
      return { executionId, list };
    });
    await Promise.all(
      callers.map(async (c) => {
        await recordEvents(m.database.db, c.list);
        // Resumed: the caller's events are already committed and visible to another connection.
        expect((await eventsOf(c.executionId)).length).toBe(c.list.length);
      }),
    );
    for (const c of callers) {
      const rows = await eventsOf(c.executionId);
      expect(rows.map((r) => [r.type, r.actor, r.escalation_id, r.data])).toEqual(c.list.map((e) => [e.type, e.actor, e.escalationId, e.data]));
    }
  });

  it('fail only the caller whose event cannot be stored; the others in its statement commit', async () => {
    const good = Array.from({ length: 8 }, () => `exec-good-${randomUUID()}`);
    const bad = `exec-bad-${randomUUID()}`;
    const results = await Promise.allSettled([
      ...good.map((executionId) => recordEvents(m.database.db, [{ executionId, type: 'agent_notified', actor: 'system', data: {} }])),
      recordEvents(m.database.db, [{ escalationId: 'not-a-uuid', executionId: bad, type: 'agent_notified', actor: 'system' }]),
    ]);
    expect(results.slice(0, -1).every((r) => r.status === 'fulfilled')).toBe(true);
    expect(results.at(-1)!.status).toBe('rejected');
    for (const executionId of good) expect(await eventsOf(executionId)).toHaveLength(1);
    expect(await eventsOf(bad)).toHaveLength(0);
  });

  it('write inside a transaction handle’s own transaction, so a rollback keeps none', async () => {
    const executionId = `exec-tx-${randomUUID()}`;
    await expect(
      m.database.db.transaction(async (tx) => {
        await recordEvents(tx, [{ executionId, type: 'agent_notified', actor: 'system' }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await eventsOf(executionId)).toHaveLength(0);
  });
});
