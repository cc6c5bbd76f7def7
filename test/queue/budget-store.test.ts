import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetWindows, toMicros } from '../../src/domain/budget.js';
import { policySchema } from '../../src/domain/policy/schema.js';
import { createBudgetStore, type BudgetStore } from '../../src/queue/budget-store.js';
import { REDIS_URL, uniqueName, dropRedisPrefix } from '../support/services.js';

let redis: Redis;
let prefix: string;
let store: BudgetStore;
const policy = policySchema.parse({
  organization: { monthlyUsd: 1000 },
  agents: [{ id: 'buyer', actions: [{ action: 'purchases.create', tier: 'autonomous' }], budgets: { dailyUsd: 500, weeklyUsd: 2000, perTaskUsd: 5 } }],
});
const hard = new Set(['day', 'week', 'month']);

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  prefix = uniqueName('cst');
  store = createBudgetStore(redis, prefix);
});
afterAll(async () => {
  await dropRedisPrefix(redis, prefix);
  redis.disconnect();
});

describe('budget counters', () => {
  it('let 200 concurrent requests against a nearly spent daily cap spend it to the cent and not one cent more', async () => {
    const windows = budgetWindows(policy, { agentId: 'buyer', executionId: 'e1' }, new Date('2026-11-25T12:00:00Z'));
    // $499.90 already spent: room for exactly ten more purchases of $0.01.
    expect((await store.reserve('seed', windows, toMicros(499.9), hard)).ok).toBe(true);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.reserve(`req-${i}`, windows, toMicros(0.01), hard)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    const [, day] = await store.totals(windows);
    expect(day).toBe(toMicros(500));
    const refused = results.find((r) => !r.ok);
    expect(refused).toMatchObject({ ok: false, window: { kind: 'day' } });
  });

  it('counts a retried request once', async () => {
    const windows = budgetWindows(policy, { agentId: 'buyer', executionId: 'e2' }, new Date('2026-11-26T12:00:00Z'));
    const a = await store.reserve('same-id', windows, toMicros(3), hard);
    const b = await store.reserve('same-id', windows, toMicros(3), hard);
    expect(a).toMatchObject({ ok: true, replay: false });
    expect(b).toMatchObject({ ok: true, replay: true });
    expect((await store.totals(windows))[1]).toBe(toMicros(3));
  });

  it('never lets concurrent spending pass a cap, whatever the amounts (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 50_000 }), fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 60 }), async (capCents, amountsCents) => {
        run++;
        const p = policySchema.parse({ agents: [{ id: 'p', budgets: { dailyUsd: capCents / 100 } }] });
        const windows = budgetWindows(p, { agentId: 'p', executionId: `x${run}` }, new Date(Date.UTC(2030, 0, 1) + run * 86_400_000));
        const results = await Promise.all(amountsCents.map((c, i) => store.reserve(`prop-${run}-${i}`, windows, c * 10_000, hard)));
        const [, day] = await store.totals(windows);
        const accepted = amountsCents.filter((_, i) => results[i]!.ok).reduce((s, c) => s + c * 10_000, 0);
        expect(day).toBe(accepted);
        expect(day).toBeLessThanOrEqual(capCents * 10_000);
      }),
      { numRuns: 60 },
    );
  });

  it('does not enforce the per-task cap: a task past it is escalated by policy, not refused here', async () => {
    const windows = budgetWindows(policy, { agentId: 'buyer', executionId: 'e3' }, new Date('2026-11-27T12:00:00Z'));
    expect((await store.reserve('t1', windows, toMicros(6), hard)).ok).toBe(true);
    expect((await store.totals(windows))[0]).toBe(toMicros(6));
  });
});
