import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { authorizeRequest } from '../../src/flow/authorize.js';
import type { DecisionStorePort, FlowPorts, SchedulerPort } from '../../src/flow/ports.js';
import { createAgentFlags } from '../../src/queue/agent-flags.js';
import { createBudgetStore } from '../../src/queue/budget-store.js';
import { createDecisionStore } from '../../src/queue/decision-store.js';
import { decisionKey } from '../../src/queue/names.js';
import { exampleConfigText, makeEscalation } from '../support/harness.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../support/services.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };
const config = parseConfig(exampleConfigText, 'examples/countersign.yml');
const scheduler = {
  enqueueCard: async () => undefined,
  enqueueNotify: async () => undefined,
  enqueueCallback: async () => undefined,
  enqueueAlert: async () => undefined,
  scheduleExpiry: async () => undefined,
  scheduleReview: async () => undefined,
} as unknown as SchedulerPort;

let db: MigratedDb;
let redis: Redis;
let prefix: string;

beforeAll(async () => {
  db = await createMigratedDb();
  redis = new Redis(REDIS_URL);
  prefix = uniqueName('cst_authz');
});
afterAll(async () => {
  await dropRedisPrefix(redis, prefix);
  redis.disconnect();
  await db?.close();
});

/** The real decision store, each publish held until `release()`: as if Redis were slow to answer. */
function heldDecisionStore() {
  const store = createDecisionStore(redis, prefix);
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const port: DecisionStorePort = { ...store, publish: async (m) => released.then(() => store.publish(m)) };
  return { port, release };
}

function portsWith(decisions: DecisionStorePort): Pick<FlowPorts, 'db' | 'config' | 'scheduler' | 'now' | 'budgets' | 'flags' | 'decisions' | 'leaseMs' | 'log'> {
  return {
    db: db.database.db,
    config: { current: () => config },
    scheduler,
    now: () => new Date('2026-12-07T09:00:00Z'),
    budgets: createBudgetStore(redis, prefix),
    flags: createAgentFlags(redis, prefix),
    decisions,
    log: silent as unknown as FlowPorts['log'],
  };
}

/** The example config's support agent reading a customer record: autonomous. */
const autonomous = () => {
  const e = makeEscalation({ action: { type: 'crm.read', params: { customerId: 'cus_4521' }, reversible: true }, confidence: 0.95 });
  delete e.callback;
  return e;
};

describe('authorizeRequest', () => {
  it('answers an autonomous action once its record commits, without waiting for the announcement to other waiters', async () => {
    const held = heldDecisionStore();
    const e = autonomous();
    const result = await authorizeRequest(portsWith(held.port), e);
    expect(result).toMatchObject({ kind: 'answered', answer: { decision: 'allow' } });
    // Answered while the announcement is still held: the record is in Postgres, not yet in Redis.
    expect((await db.sql`select status from escalations where id = ${e.id}`)[0]).toEqual({ status: 'allowed' });
    expect(await redis.get(decisionKey(prefix, e.id))).toBeNull();
    // The announcement is handed back, and completes once Redis answers.
    const announced = result.kind === 'answered' ? result.announced : undefined;
    expect(announced).toBeInstanceOf(Promise);
    held.release();
    await announced;
    expect(JSON.parse((await redis.get(decisionKey(prefix, e.id)))!)).toMatchObject({ escalationId: e.id, status: 'allowed' });
  });
});
