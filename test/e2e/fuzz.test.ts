import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Job, QueueEvents } from 'bullmq';
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { escalationSchema, parseEscalation, type EscalationInput } from '../../src/domain/escalation.js';
import { intake, type IntakeResult } from '../../src/flow/intake.js';
import type { FlowPorts, SchedulerPort } from '../../src/flow/ports.js';
import { ESCALATIONS_QUEUE } from '../../src/queue/names.js';
import { Redis } from 'ioredis';
import { createBudgetStore } from '../../src/queue/budget-store.js';
import { createAgentFlags } from '../../src/queue/agent-flags.js';
import { createDecisionStore } from '../../src/queue/decision-store.js';
import { startCallbackServer } from '../support/callback-server.js';
import { exampleConfigText, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { REDIS_URL, createTestDatabase, eventually } from '../support/services.js';

// ---------------------------------------------------------------------------------------------
// Arbitraries: what a buggy or hostile agent could put on the queue.
// ---------------------------------------------------------------------------------------------

const example = JSON.parse(readFileSync(new URL('../../examples/escalation.json', import.meta.url), 'utf8')) as EscalationInput;

type PathKey = string | number;

/** Every path in the example, inner nodes and leaves: where a mutation can strike. */
function pathsOf(v: unknown, prefix: PathKey[] = []): PathKey[][] {
  if (typeof v !== 'object' || v === null) return [];
  const entries: Array<[PathKey, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return entries.flatMap(([k, x]) => [[...prefix, k], ...pathsOf(x, [...prefix, k])]);
}
const EXAMPLE_PATHS = pathsOf(example);
const STRING_LEAVES = EXAMPLE_PATHS.filter((p) => typeof get(example, p) === 'string');
const pathText = (p: PathKey[]) => p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '');

function get(root: unknown, path: PathKey[]): unknown {
  return path.reduce<unknown>((node, k) => (typeof node === 'object' && node !== null ? (node as Record<PathKey, unknown>)[k] : undefined), root);
}
/** Own property even for `__proto__`: what JSON.parse produces, and what an assignment would not. */
function setOwn(obj: object, key: PathKey, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Nested `depth` levels, alternating objects and arrays, built without recursion. */
function nested(depth: number, leaf: unknown = 'bottom'): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { deeper: v };
  return v;
}

const UNSTORABLE_CHARS = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff'];
/** Strings Postgres cannot store as they are (NUL, unpaired surrogates), among ordinary text. */
const unstorableString = fc
  .tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...UNSTORABLE_CHARS), fc.string({ maxLength: 20 }))
  .map(([a, bad, b]) => `${a}${bad}${b}`);
const nastyString = fc.oneof(
  { weight: 4, arbitrary: fc.string() },
  // Any code point, astral ones included (built from code points: fc's 'binary' unit is slow to bias).
  { weight: 2, arbitrary: fc.array(fc.integer({ min: 0, max: 0x10ffff }), { maxLength: 40 }).map((cps) => String.fromCodePoint(...cps)) },
  { weight: 2, arbitrary: unstorableString },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '', ' ', '\n', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
      '<!channel>', '<@U123>', '<https://evil.example|bank>', '\u202Egnp.exe', '👩‍👩‍👧‍👦', 'NaN', '1e309', 'null', '{}', '[]',
      "'; drop table events; --", '$1', '\\u0000',
    ),
  },
  // Huge strings, rarely: each one costs a database write of its size.
  { weight: 1, arbitrary: fc.integer({ min: 20_001, max: 120_000 }).map((n) => 'x'.repeat(n)) },
);
const deep = fc.integer({ min: 40, max: 6_000 }).map((n) => nested(n));
/** Objects whose keys are prototype-pollution vectors, as JSON.parse builds them (own properties). */
const protoObject = fc
  .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ polluted: true })))
  .map(([k, v]) => JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(v ?? null)},"polluted_probe":1}`) as object);
const keyArb = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'polluted', 'id', 'toJSON'), nastyString);
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, Number.MAX_SAFE_INTEGER + 2, 1e308, -1, 7, 1.5));

/**
 * Any value an agent could send. Bigints, functions and symbols are left out: job data
 * crosses Redis as JSON, and BullMQ's own JSON.stringify would refuse them at the agent.
 */
const wild: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.anything({ maxDepth: 3, withNullPrototype: true, withSparseArray: true, withBoxedValues: true, withDate: true, withObjectString: true }) },
  { weight: 3, arbitrary: nastyString },
  { weight: 2, arbitrary: number },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: protoObject },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, false, [], {}, NaN, Infinity) },
);
/** The same, restricted to what survives JSON: what the real queue delivers. */
const wildJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: nastyString },
  { weight: 2, arbitrary: number.map((n) => (Number.isFinite(n) ? n : null)) },
  { weight: 1, arbitrary: fc.integer({ min: 40, max: 3_000 }).map((n) => nested(n)) },
  { weight: 1, arbitrary: protoObject },
);

type Mutation = { op: 'delete' | 'replace' | 'add'; at: number; key: string; value: unknown };
const mutationArb = (values: fc.Arbitrary<unknown>) =>
  fc.record({ op: fc.constantFrom('delete', 'replace', 'replace', 'add'), at: fc.nat(), key: keyArb, value: values }) as fc.Arbitrary<Mutation>;

/** The valid example with a fresh id, then struck by 1–4 mutations. */
function mutated(values: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(fc.uuid({ version: 4 }), fc.array(mutationArb(values), { minLength: 1, maxLength: 4 })).map(([id, mutations]) => {
    const root = structuredClone({ ...example, id }) as Record<string, unknown>;
    for (const m of mutations) {
      const path = EXAMPLE_PATHS[m.at % EXAMPLE_PATHS.length]!;
      const parent = get(root, path.slice(0, -1));
      if (typeof parent !== 'object' || parent === null) continue; // an earlier mutation removed this branch
      const last = path[path.length - 1]!;
      if (m.op === 'delete') delete (parent as Record<PathKey, unknown>)[last];
      else if (m.op === 'replace') setOwn(parent, last, m.value);
      else setOwn(parent, m.key, m.value);
    }
    return root;
  });
}

/** The jobId BullMQ hands the worker: usually the data's id, sometimes another or none. */
function withJobId(data: fc.Arbitrary<unknown>): fc.Arbitrary<[unknown, string | undefined]> {
  return fc.tuple(data, fc.nat({ max: 9 }), fc.uuid({ version: 4 }), nastyString).map(([d, pick, uuid, s]) => {
    const own = typeof d === 'object' && d !== null && typeof (d as { id?: unknown }).id === 'string' ? (d as { id: string }).id : undefined;
    const jobId = pick < 6 ? (own ?? uuid) : pick < 8 ? uuid : pick < 9 ? s.slice(0, 300) : undefined;
    return [d, jobId];
  });
}

/** Payloads per fc run, run concurrently. */
const BATCH = 25;

const REQUIRED_PATHS = [
  'version', 'id', 'agent', 'agent.id', 'agent.name', 'agent.owner', 'agent.model', 'agent.modelVersion', 'agent.promptVersion',
  'executionId', 'action', 'action.type', 'action.reversible', 'issueType', 'trigger', 'trigger.kind', 'trigger.input', 'reasoning',
  'confidence', 'handoff', 'handoff.attempted', 'handoff.failed', 'handoff.gathered', 'handoff.recommendation', 'cost', 'cost.tokens', 'cost.usd',
].map((p) => p.split('.'));

// ---------------------------------------------------------------------------------------------
// 1. The intake step, called directly with real Postgres: 10,000 payloads.
// ---------------------------------------------------------------------------------------------

describe('intake, fuzzed with 10,000 malformed payloads against real Postgres', () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let database: Database;
  let sql: postgres.Sql;
  const scheduled: Array<{ kind: string; id: string }> = [];
  let ports: Pick<FlowPorts, 'db' | 'config' | 'scheduler' | 'now' | 'budgets' | 'flags' | 'decisions'>;
  let redis: Redis;
  let prefix: string;
  const tally = { runs: 0, rejected: 0, accepted: 0, fresh: 0 };

  beforeAll(async () => {
    testDb = await createTestDatabase();
    // Real Postgres, real constraints; only the per-commit fsync wait is skipped, so 10,000 transactions fit the budget.
    const admin = postgres(testDb.url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`alter database "${new URL(testDb.url).pathname.slice(1)}" set synchronous_commit = off`);
    await admin.end();
    database = await openDatabase({ url: testDb.url, dataDir: '/nonexistent', max: BATCH });
    await runMigrations(database, testDb.url);
    sql = postgres(testDb.url, { max: 1, onnotice: () => {} });
    const config = parseConfig(exampleConfigText, 'examples/countersign.yml');
    // Our own port, recorded rather than backed by Redis: this part is about intake and Postgres.
    const scheduler: SchedulerPort = {
      scheduleExpiry: async (id) => void scheduled.push({ kind: 'expiry', id }),
      enqueueNotify: async (id) => void scheduled.push({ kind: 'notify', id }),
      enqueueCallback: async (id) => void scheduled.push({ kind: 'callback', id }),
      refreshHomes: async () => undefined,
      enqueueCard: async () => undefined,
      enqueueDigest: async () => undefined,
      refreshDigest: async () => undefined,
      enqueueLateClick: async () => undefined,
  enqueueAlert: async () => undefined,
      scheduleReview: async () => undefined,
      scheduleChainStep: async () => undefined,
      cancelChain: async () => 0,
      chainJobState: async () => 'unknown',
    };
    // Policy's counters live in real Redis, under this file's own prefix.
    redis = new Redis(REDIS_URL);
    prefix = `cst_fuzz_${randomUUID().slice(0, 8)}`;
    ports = {
      db: database.db,
      config: { current: () => config },
      scheduler,
      now: () => new Date(),
      budgets: createBudgetStore(redis, prefix),
      flags: createAgentFlags(redis, prefix),
      decisions: createDecisionStore(redis, prefix),
    };
  });
  afterAll(async () => {
    const keys = (await redis?.keys(`${prefix}:*`)) ?? [];
    if (keys.length) await redis.del(...keys);
    redis?.disconnect();
    await sql?.end();
    await database?.close();
    await testDb?.drop();
  });

  /** The invariant for any input: intake answers (never throws), and a rejection names where and why. */
  async function intakeHolds(data: unknown, jobId: string | undefined): Promise<IntakeResult> {
    const schemaOk = escalationSchema.safeParse(data).success;
    const result = await intake(ports, data, jobId);
    tally.runs++;
    // Plain checks first and one expect each: expect() itself is the costliest line at 10,000 runs.
    if (!schemaOk) expect(result.kind).toBe('rejected');
    if (result.kind === 'rejected') {
      tally.rejected++;
      const unnamed = result.errors.filter((e) => !(typeof e.path === 'string' && e.path !== '' && typeof e.message === 'string' && e.message !== ''));
      if (result.errors.length === 0 || unnamed.length > 0) expect({ errors: result.errors }).toEqual({ errors: 'at least one, each with a path and a message' });
      if (!result.message.includes(`${result.errors[0]!.path}: `)) expect(result.message).toContain(`${result.errors[0]!.path}: `);
    } else {
      tally.accepted++;
      if (result.fresh) tally.fresh++;
      if (!schemaOk || result.row.id !== (data as { id: string }).id) expect({ schemaOk, id: result.row.id }).toEqual({ schemaOk: true, id: (data as { id: string }).id });
    }
    return result;
  }

  /**
   * Runs `payloads` checks as fc runs of BATCH payloads each, the batch concurrently: agents
   * enqueue concurrently too, and intake must hold under that (duplicate ids included).
   */
  async function fuzz<T>(arb: fc.Arbitrary<T>, payloads: number, check: (value: T) => Promise<void>): Promise<void> {
    await fc.assert(
      fc.asyncProperty(fc.array(arb, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        await Promise.all(batch.map(check));
      }),
      { numRuns: payloads / BATCH },
    );
  }

  it('never throws on anything at all (fc.anything, strings, numbers, deep nesting, __proto__ keys): 3,000 payloads', async () => {
    await fuzz(withJobId(wild), 3_000, async ([data, jobId]) => {
      const r = await intakeHolds(data, jobId);
      expect(r.kind).toBe('rejected');
    });
  }, 120_000);

  it('never throws on the valid example struck by random deletions, replacements and additions: 5,000 payloads', async () => {
    await fuzz(withJobId(mutated(wild)), 5_000, async ([data, jobId]) => {
      await intakeHolds(data, jobId);
    });
  }, 120_000);

  it('rejects the example without any one required field, naming that field: 1,000 payloads', async () => {
    await fuzz(fc.tuple(fc.constantFrom(...REQUIRED_PATHS), fc.uuid({ version: 4 })), 1_000, async ([path, id]) => {
      const data = structuredClone({ ...example, id }) as Record<string, unknown>;
      delete (get(data, path.slice(0, -1)) as Record<string, unknown>)[path[path.length - 1]!];
      const r = await intakeHolds(data, path.join('.') === 'id' ? undefined : id);
      expect(r.kind).toBe('rejected');
      if (r.kind === 'rejected') expect(r.errors.map((e) => e.path)).toContain(path.join('.'));
    });
  }, 120_000);

  it('rejects, naming the field, text Postgres cannot store (NUL, unpaired surrogates) and nesting too deep to walk: 1,000 payloads', async () => {
    const arb = fc.tuple(
      fc.uuid({ version: 4 }),
      fc.constantFrom(...STRING_LEAVES.filter((p) => p[0] !== 'id')),
      fc.oneof(unstorableString, fc.integer({ min: 100, max: 20_000 }).map((n) => nested(n))),
      fc.boolean(),
    );
    await fuzz(arb, 1_000, async ([id, path, bad, inParams]) => {
      const data = structuredClone({ ...example, id }) as Record<string, unknown>;
      // Either a string field, or a value deep inside the free-form params.
      const where = inParams ? ['action', 'params', 'extra'] : path;
      setOwn(get(data, where.slice(0, -1)) as object, where[where.length - 1]!, bad);
      const r = await intakeHolds(data, id);
      expect(r.kind).toBe('rejected');
      if (r.kind === 'rejected') expect(r.errors.map((e) => e.path).some((p) => p.startsWith(pathText(where)))).toBe(true);
    });
  }, 120_000);

  it('recorded every rejection as a rejected event, and polluted no prototype', async () => {
    expect(tally.runs).toBeGreaterThanOrEqual(10_000);
    const [counts] = await sql<Array<{ rejected: number; received: number }>>`
      select count(*) filter (where type = 'rejected')::int as rejected, count(*) filter (where type = 'received')::int as received from events`;
    expect(counts!.rejected).toBe(tally.rejected);
    expect(counts!.received).toBe(tally.fresh);
    // A rejection with a usable id has its row; nothing rejected was ever scheduled to expire.
    const [rows] = await sql<Array<{ rejected: number; accepted: number }>>`
      select count(*) filter (where status = 'rejected')::int as rejected, count(*) filter (where status <> 'rejected')::int as accepted from escalations`;
    // Accepted ones are pending, or decided at once by policy (allowed, denied).
    expect(rows!.accepted).toBe(tally.fresh);
    expect(scheduled.filter((s) => s.kind === 'notify')).toHaveLength(rows!.rejected);
    const pendingIds = new Set((await sql<Array<{ id: string }>>`select id from escalations where status = 'pending'`).map((r) => r.id));
    expect(scheduled.filter((s) => s.kind === 'expiry').every((s) => pendingIds.has(s.id))).toBe(true);
    const probe = {} as Record<string, unknown>;
    expect(probe.polluted).toBeUndefined();
    expect(probe.polluted_probe).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. The real queue and worker: 500 malformed jobs.
// ---------------------------------------------------------------------------------------------

describe('the real queue and worker, fed 500 malformed jobs', () => {
  let h: Harness;
  let cb: Awaited<ReturnType<typeof startCallbackServer>>;
  let queueEvents: QueueEvents;

  beforeAll(async () => {
    h = await startHarness();
    cb = await startCallbackServer();
    queueEvents = new QueueEvents(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    await queueEvents.waitUntilReady();
  });
  afterAll(async () => {
    await queueEvents?.close();
    await h?.close();
    await cb?.close();
  });

  it('fails every one of them once, unrecoverably, tells any reachable agent "rejected", and keeps serving', async () => {
    // Payloads that survive JSON, all invalid; each job's id is the data's id when it has a usable one.
    // Invalid by the full check: the schema, and what Postgres can store (NUL, surrogates, depth).
    const invalid = (d: unknown) => d !== undefined && !parseEscalation(d).ok;
    const local = (d: unknown) => {
      // Callbacks go to our own server, never out to example.com.
      const cbObj = typeof d === 'object' && d !== null ? (d as { callback?: unknown }).callback : undefined;
      if (typeof cbObj === 'object' && cbObj !== null && typeof (cbObj as { url?: unknown }).url === 'string') setOwn(cbObj, 'url', cb.url);
      return d;
    };
    const payloads = [
      ...fc.sample(mutated(wildJson).map(local).filter(invalid), { numRuns: 400, seed: 4521 }),
      ...fc.sample(wildJson.filter(invalid), { numRuns: 100, seed: 340 }),
    ];
    expect(payloads).toHaveLength(500);
    const jobs = payloads.map((data) => {
      const id = typeof data === 'object' && data !== null ? (data as { id?: unknown }).id : undefined;
      const jobId = typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id) ? id : randomUUID();
      return { name: 'escalation', data, opts: { jobId, attempts: 3, backoff: { type: 'fixed', delay: 10 } } };
    });
    // Some mutations leave the example's id in place: keep job ids unique, as distinct agents' would be.
    const seen = new Set<string>();
    for (const j of jobs) {
      if (seen.has(j.opts.jobId)) j.opts.jobId = randomUUID();
      seen.add(j.opts.jobId);
    }

    const added = await h.queue.addBulk(jobs);
    // waitUntilFinished adds a listener per job on the queue; 500 at once is intended here.
    h.queue.setMaxListeners(jobs.length + 10);
    const outcomes = await Promise.all(
      added.map((job) => job.waitUntilFinished(queueEvents, 45_000).then(() => 'completed', (err: Error) => err.message)),
    );
    expect(outcomes.filter((o) => o === 'completed')).toEqual([]);

    const failed = await Promise.all(added.map((job) => Job.fromId(h.queue, job.id!)));
    for (const job of failed) {
      expect(await job!.getState()).toBe('failed');
      expect(job!.attemptsMade).toBe(1);
      expect(job!.failedReason).toMatch(/^Invalid escalation: \S/);
    }
    expect(h.fake.callsTo('chat.postMessage')).toHaveLength(0);

    // Each failed job left its rejected event. (A job whose lock lapsed under load is run again by
    // BullMQ's stalled-job check and records its rejection a second time: at least once, not exactly.)
    const recorded = await h.sql<Array<{ jobId: string; n: number }>>`
      select data->>'jobId' as "jobId", count(*)::int as n from events where type = 'rejected' group by 1`;
    const byJob = new Map(recorded.map((r) => [r.jobId, r.n]));
    expect(added.map((j) => j.id!).filter((id) => !byJob.has(id))).toEqual([]);
    expect(recorded.every((r) => seen.has(r.jobId))).toBe(true);
    // Every agent that left a usable callback URL is told, and only ever "rejected, do not proceed".
    const [told] = await h.sql<Array<{ n: number }>>`
      select count(*)::int as n from escalations where status = 'rejected' and callback_url is not null`;
    const withCallback = told!.n;
    expect(withCallback).toBeGreaterThan(0);
    await eventually(async () => (cb.received.length >= withCallback ? true : undefined), `${withCallback} rejection callbacks`, 30_000);
    expect(cb.received.every((c) => c.json.status === 'rejected' && c.json.proceed === false)).toBe(true);

    const health = await fetch(`${h.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    const e = makeEscalation();
    await h.enqueue(e);
    await h.card(e.id);
  }, 120_000);
});
