import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawFromWindow } from '../../src/db/queries/review-samples.js';
import { drawPositions, sampleSize } from '../../src/domain/sampling.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;
beforeAll(async () => {
  db = await createMigratedDb();
});
afterAll(async () => {
  await db?.close();
});

const BASE = Date.UTC(2026, 9, 1);
const HOUR = 3_600_000;
const STATUSES = ['allowed', 'approved', 'denied', 'expired', 'pending'] as const;

describe('drawing from a window', () => {
  it('draws only actions that ran (allowed or approved) inside [from, to), and all of them at 100%', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ hour: fc.integer({ min: 0, max: 24 * 20 }), status: fc.constantFrom(...STATUSES) }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 24 * 20 }),
        fc.integer({ min: 1, max: 24 * 10 }),
        async (rows, fromHour, spanHours) => {
          const agent = `agent-${randomUUID()}`;
          const stored = rows.map((r) => ({ id: randomUUID(), at: new Date(BASE + r.hour * HOUR), status: r.status }));
          for (const r of stored) {
            const decided = r.status === 'pending' ? null : r.at;
            // Created a little before the decision, as a real escalation is.
            await db.sql`insert into escalations (id, status, agent_id, action_type, decided_at, created_at)
              values (${r.id}, ${r.status}, ${agent}, 'crm.read', ${decided}, ${new Date(r.at.getTime() - 60_000)})`;
          }
          const from = new Date(BASE + fromHour * HOUR);
          const to = new Date(from.getTime() + spanHours * HOUR);
          const { population, drawn } = await drawFromWindow(db.database.db, { agentId: agent, from, to }, (n) => Array.from({ length: n }, (_, i) => i));
          const expected = stored
            .filter((r) => (r.status === 'allowed' || r.status === 'approved') && r.at >= from && r.at < to)
            .map((r) => r.id)
            .sort();
          expect(population).toBe(expected.length);
          expect(drawn.map((d) => d.escalationId)).toEqual(expected);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('gives the same actions for the same seed and window, and others for another seed', async () => {
    const agent = `agent-${randomUUID()}`;
    for (let i = 0; i < 200; i++) {
      await db.sql`insert into escalations (id, status, agent_id, action_type, decided_at, created_at)
        values (${randomUUID()}, 'allowed', ${agent}, 'crm.read', ${new Date(BASE + i * 60_000)}, ${new Date(BASE + i * 60_000)})`;
    }
    const w = { agentId: agent, from: new Date(BASE), to: new Date(BASE + 200 * 60_000) };
    const seed = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    const draw = () => drawFromWindow(db.database.db, w, (n) => drawPositions(seed, n, sampleSize(n, 5)));
    const first = await draw();
    expect(first.population).toBe(200);
    expect(first.drawn).toHaveLength(10);
    expect((await draw()).drawn).toEqual(first.drawn);
    const other = await drawFromWindow(db.database.db, w, (n) => drawPositions('c0ffee00c0ffee00c0ffee00c0ffee01', n, sampleSize(n, 5)));
    expect(other.drawn).not.toEqual(first.drawn);
  });
});
