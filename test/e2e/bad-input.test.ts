import { randomUUID } from 'node:crypto';
import { Job, QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCallback } from '../../src/domain/callback-signature.js';
import type { EscalationInput } from '../../src/domain/escalation.js';
import { ESCALATIONS_QUEUE } from '../../src/queue/names.js';
import { startCallbackServer } from '../support/callback-server.js';
import { API_TOKEN, CALLBACK_SECRET, REFUNDS_CHANNEL, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { REDIS_URL } from '../support/services.js';

let h: Harness;
let cb: Awaited<ReturnType<typeof startCallbackServer>>;
let events: QueueEvents;

beforeAll(async () => {
  h = await startHarness();
  cb = await startCallbackServer();
  events = new QueueEvents(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
  await events.waitUntilReady();
});
afterAll(async () => {
  await events?.close();
  await h?.close();
  await cb?.close();
});

/**
 * Adds a job as an agent would, but with `attempts: 5`: if invalid input were
 * retried, attemptsMade would climb past 1. Resolves once the job has finished,
 * with its final state as stored in Redis.
 */
async function addAndSettle(data: unknown, jobId: string, opts: { removeOnComplete?: boolean } = {}) {
  const job = await h.queue.add('escalation', data, { jobId, attempts: 5, backoff: { type: 'fixed', delay: 10 }, ...opts });
  const outcome = await job.waitUntilFinished(events, 15_000).then(
    (value: unknown) => ({ ok: true as const, value }),
    (err: Error) => ({ ok: false as const, error: err.message }),
  );
  const stored = await Job.fromId(h.queue, jobId);
  return { outcome, job: stored, state: stored ? await stored.getState() : 'removed' };
}

type EventRow = { type: string; escalation_id: string | null; actor: string; data: { errors?: Array<{ path: string; message: string }>; jobId?: string | null } };
const rejectedEventsFor = (id: string) =>
  h.sql<EventRow[]>`select type, escalation_id, actor, data from events where type = 'rejected' and escalation_id = ${id} order by id`;
const rejectedEventsForJob = (jobId: string) =>
  h.sql<EventRow[]>`select type, escalation_id, actor, data from events where type = 'rejected' and data->>'jobId' = ${jobId} order by id`;
const rowOf = async (id: string) =>
  (await h.sql<Array<{ status: string; digest: string | null; request: EscalationInput | null; errors: unknown; card_ts: string | null }>>`
    select status, digest, request, errors, card_ts from escalations where id = ${id}`)[0];
const api = (id: string) => fetch(`${h.baseUrl}/api/escalations/${id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
const paths = (errors: Array<{ path: string }> | undefined) => (errors ?? []).map((e) => e.path);

/** The example escalation with `agent.owner` removed. */
function withoutOwner(e: EscalationInput): EscalationInput {
  const { owner: _owner, ...agent } = e.agent;
  return { ...e, agent: agent as EscalationInput['agent'] };
}

describe('an escalation that fails the schema', () => {
  it('fails once, unrecoverably, with a reason naming the offending fields', async () => {
    const e = withoutOwner(makeEscalation({ confidence: 7, callback: { url: cb.url } }));
    const { outcome, job, state } = await addAndSettle(e, e.id);

    expect(outcome.ok).toBe(false);
    expect(state).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toMatch(/^Invalid escalation: /);
    expect(job!.failedReason).toContain('confidence');
    expect(job!.failedReason).toContain('agent.owner');
  });

  it('is recorded: a rejected escalation row and a rejected event that carry the errors', async () => {
    const e = withoutOwner(makeEscalation({ confidence: 7, callback: { url: cb.url } }));
    await addAndSettle(e, e.id);

    const row = await rowOf(e.id);
    expect(row?.status).toBe('rejected');
    expect(row?.digest).toBeNull();
    expect(row?.card_ts).toBeNull();
    expect(paths(row?.errors as Array<{ path: string }>)).toEqual(expect.arrayContaining(['confidence', 'agent.owner']));

    const rejected = await rejectedEventsFor(e.id);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.actor).toBe('system');
    expect(rejected[0]!.data.jobId).toBe(e.id);
    expect(paths(rejected[0]!.data.errors)).toEqual(expect.arrayContaining(['confidence', 'agent.owner']));
    // And it never became a card.
    expect(h.fake.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args.metadata ?? {}).includes(e.id))).toHaveLength(0);
  });

  it('tells the agent at its callback URL: rejected, do not proceed, and why, signed', async () => {
    const e = withoutOwner(makeEscalation({ confidence: 7, callback: { url: cb.url } }));
    await addAndSettle(e, e.id);

    const got = await cb.waitFor(e.id);
    expect(got.json).toMatchObject({ escalationId: e.id, executionId: e.executionId, status: 'rejected', proceed: false });
    const errors = got.json.errors as Array<{ path: string; message: string }>;
    expect(paths(errors)).toEqual(expect.arrayContaining(['confidence', 'agent.owner']));
    expect(errors.every((x) => x.message.length > 0)).toBe(true);
    expect(
      verifyCallback({
        secret: CALLBACK_SECRET,
        timestamp: got.headers['x-countersign-timestamp'] as string,
        signature: got.headers['x-countersign-signature'] as string,
        body: got.body,
      }),
    ).toBe(true);
  });

  it('answers status rejected, with the errors, on GET /api/escalations/:id', async () => {
    const e = withoutOwner(makeEscalation({ confidence: 7 }));
    await addAndSettle(e, e.id);

    const res = await api(e.id);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; proceed: boolean; errors?: Array<{ path: string }> };
    expect(body).toMatchObject({ escalationId: e.id, status: 'rejected', proceed: false });
    expect(paths(body.errors)).toEqual(expect.arrayContaining(['confidence', 'agent.owner']));
  });

  it('names agent.owner when the owner is not a Slack user id, and tells the agent', async () => {
    const base = makeEscalation({ callback: { url: cb.url } });
    const e = { ...base, agent: { ...base.agent, owner: 'jane.doe@example.com' } };
    const { job, state } = await addAndSettle(e, e.id);

    expect(state).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toContain('agent.owner');
    expect(job!.failedReason).toContain('Slack user id');
    expect(job!.failedReason).not.toContain('confidence');
    const got = await cb.waitFor(e.id);
    expect(got.json).toMatchObject({ status: 'rejected', proceed: false, errors: [{ path: 'agent.owner' }] });
    expect((await rowOf(e.id))?.status).toBe('rejected');
  });
});

describe('job data that is not even an object', () => {
  it.each([
    ['a string', 'please refund order #4521'],
    ['null', null],
    ['an array', [{ id: randomUUID() }, 'x', 1]],
    ['a number', 42],
  ])('fails unrecoverably when it is %s, and is recorded as a rejected event without an escalation', async (_what, data) => {
    const jobId = randomUUID();
    const { outcome, job, state } = await addAndSettle(data, jobId);

    expect(outcome.ok).toBe(false);
    expect(state).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toMatch(/^Invalid escalation: \(root\): /);

    const rejected = await rejectedEventsForJob(jobId);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.escalation_id).toBeNull();
    expect(paths(rejected[0]!.data.errors)).toContain('(root)');
    expect(await rowOf(jobId)).toBeUndefined();
    expect((await api(jobId)).status).toBe(404);
  });
});

describe('a jobId that differs from data.id', () => {
  it('is rejected naming id, and neither id gets an escalation', async () => {
    const e = makeEscalation({ callback: { url: cb.url } });
    const jobId = randomUUID();
    const { job, state } = await addAndSettle(e, jobId);

    expect(state).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toMatch(/^Invalid escalation: id: /);
    const rejected = await rejectedEventsForJob(jobId);
    expect(rejected).toHaveLength(1);
    expect(paths(rejected[0]!.data.errors)).toEqual(['id']);
    expect(rejected[0]!.data.errors![0]!.message).toContain(jobId);
    expect(await rowOf(e.id)).toBeUndefined();
    expect(await rowOf(jobId)).toBeUndefined();
  });
});

describe('re-using an id with different params after the first request was accepted', () => {
  it('is rejected naming id, and the original escalation, its card and its pending status are untouched', async () => {
    const first = makeEscalation({ callback: { url: cb.url } });
    // removeOnComplete lets the same jobId be added again; otherwise BullMQ would drop the second add as a duplicate.
    const accepted = await addAndSettle(first, first.id, { removeOnComplete: true });
    expect(accepted.outcome).toMatchObject({ ok: true, value: { status: 'pending', decision: 'pending' } });
    const card = await h.card(first.id);
    const before = await rowOf(first.id);
    expect(before?.status).toBe('pending');

    const second: EscalationInput = { ...first, action: { ...first.action, params: { ...first.action.params, amountUsd: 34_000 } } };
    const { job, state } = await addAndSettle(second, first.id);

    expect(state).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toMatch(/^Invalid escalation: id: already used by a different request/);

    const after = await rowOf(first.id);
    expect(after).toEqual(before);
    expect(after?.request?.action.params).toMatchObject({ amountUsd: 340 });
    const rejected = await rejectedEventsFor(first.id);
    expect(rejected).toHaveLength(1);
    expect(paths(rejected[0]!.data.errors)).toEqual(['id']);

    // Still one card, never edited, and the agent was told nothing: its first request is still pending.
    const cards = h.fake.messages(REFUNDS_CHANNEL).filter((m) => m.metadata?.event_payload.escalation_id === first.id);
    expect(cards).toHaveLength(1);
    expect(cards[0]!.ts).toBe(card.ts);
    expect(cards[0]!.edited).toBeUndefined();
    expect(cb.received.filter((c) => c.json.escalationId === first.id)).toHaveLength(0);
    const res = await api(first.id);
    expect(await res.json()).toMatchObject({ status: 'pending', proceed: false });
  });

  it('with the same params is a harmless duplicate: accepted, still one card', async () => {
    const e = makeEscalation();
    await addAndSettle(e, e.id, { removeOnComplete: true });
    await h.card(e.id);
    const again = await addAndSettle(structuredClone(e), e.id);
    expect(again.outcome).toMatchObject({ ok: true, value: { status: 'pending' } });
    expect(await rejectedEventsFor(e.id)).toHaveLength(0);
    expect(h.fake.messages(REFUNDS_CHANNEL).filter((m) => m.metadata?.event_payload.escalation_id === e.id)).toHaveLength(1);
  });
});

describe('an escalation the schema accepts but Postgres could not store', () => {
  /** Nested `depth` levels without recursion. */
  const nested = (depth: number): unknown => {
    let v: unknown = 'bottom';
    for (let i = 0; i < depth; i++) v = { deeper: v };
    return v;
  };
  const withParam = (e: EscalationInput, key: string, value: unknown): EscalationInput => {
    // JSON.parse makes `__proto__` an own key, as it is in job data that came through Redis.
    const params = JSON.parse(JSON.stringify(e.action.params)) as Record<string, unknown>;
    Object.defineProperty(params, key, { value, enumerable: true, writable: true, configurable: true });
    return { ...e, action: { ...e.action, params } };
  };

  it.each<[string, (e: EscalationInput) => EscalationInput, string]>([
    ['a NUL byte in the reasoning', (e) => ({ ...e, reasoning: 'outside the window\u0000' }), 'reasoning'],
    ['an unpaired surrogate in a param', (e) => withParam(e, 'note', 'half an emoji: \ud83d'), 'action.params.note'],
    ['a NUL byte in a param key', (e) => withParam(e, 'order\u0000Id', '#4521'), 'action.params.order\ufffdId'],
    ['params nested 1,000 levels deep', (e) => withParam(e, 'deep', nested(1_000)), 'action.params.deep'],
    ['a __proto__ key in params, which a parsed record would silently drop', (e) => withParam(e, '__proto__', { amountUsd: 1 }), 'action.params.__proto__'],
    ['a deadline in year 0', (e) => ({ ...e, deadline: '0000-01-01T00:00:00Z' }), 'deadline'],
    ['a deadline past year 9999', (e) => ({ ...e, deadline: '9999-12-31T23:59:59-23:59' }), 'deadline'],
  ])('is rejected at once for %s, naming the field, and the agent is told', async (_what, spoil, path) => {
    const e = spoil(makeEscalation({ callback: { url: cb.url } }));
    const { job, state } = await addAndSettle(e, e.id);

    expect(state).toBe('failed');
    expect(job!.attemptsMade).toBe(1);
    // Too deep is reported where the walk stopped, under the field: `action.params.deep.deeper…`.
    const names = (p: string) => p === path || p.startsWith(`${path}.`);
    expect(job!.failedReason).toMatch(/^Invalid escalation: /);
    expect(job!.failedReason).toContain(path);
    expect((await rowOf(e.id))?.status).toBe('rejected');
    expect(paths((await rejectedEventsFor(e.id))[0]?.data.errors).some(names)).toBe(true);
    const got = await cb.waitFor(e.id);
    expect(got.json).toMatchObject({ status: 'rejected', proceed: false });
    expect(paths(got.json.errors as Array<{ path: string }>).some(names)).toBe(true);
  });
});
