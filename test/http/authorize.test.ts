import http from 'node:http';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_QUEUE } from '../../src/queue/names.js';
import type { EscalationInput } from '../../src/domain/escalation.js';
import { API_TOKEN, APPROVER, REFUNDS_CHANNEL, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { REDIS_URL, eventually } from '../support/services.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

function post(body: unknown, opts: { query?: string; token?: string | null; contentType?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? API_TOKEN}`;
  return fetch(`${h.baseUrl}/api/authorize${opts.query ?? ''}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

const get = (path: string) => fetch(`${h.baseUrl}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });

/** The example escalation as a confident support agent's action of this type and params. */
function act(type: string, params: Record<string, unknown>, over: Partial<EscalationInput> = {}): EscalationInput {
  return makeEscalation({ confidence: 0.95, action: { type, params, reversible: true }, ...over });
}

const cardsFor = (id: string) => h.fake.callsTo('chat.postMessage').filter((c) => (c.args.metadata as { event_payload?: { escalation_id?: string } } | undefined)?.event_payload?.escalation_id === id);

/** The card job (jobId = the escalation's id) has finished: its card is posted or given up. */
const cardJobDone = (id: string) => eventually(async () => ((await h.queue.getJobState(id)) === 'completed' ? true : undefined), `card job ${id} completed`);

describe('POST /api/authorize', () => {
  it('allows an autonomous action with 200, its row already committed when the answer arrives', async () => {
    const e = act('crm.read', { customerId: 'C-1' });
    const res = await post(e);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      escalationId: e.id,
      decision: 'allow',
      status: 'allowed',
      code: 'policy_allowed',
      tier: 'autonomous',
      rule: 'policy.agents[0].actions[0]',
      reason: 'crm.read is autonomous',
      triggers: [],
      policyVersion: expect.any(String),
      // Allowed as asked: the digest approved is the request's own.
      approved: { edited: false, editedParams: {}, requestDigest: expect.stringMatching(/^[0-9a-f]{64}$/), approvedDigest: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    // Read at once, no waiting: the row and its `received` event committed before the answer.
    const rows = await h.sql`select status, decided_by from escalations where id = ${e.id}`;
    expect(rows).toEqual([{ status: 'allowed', decided_by: 'policy' }]);
    expect(await h.sql`select type from events where escalation_id = ${e.id} and type = 'received'`).toHaveLength(1);
    expect(cardsFor(e.id)).toHaveLength(0);
  });

  it('answers with the body\'s length rather than chunked, so that the answer is one write and the client parses no chunks', async () => {
    const res = await post(act('crm.read', { customerId: 'C-2' }));
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get('transfer-encoding')).toBeNull();
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    const bad = await post({ id: 'not-a-uuid' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-length')).toBe(String(Buffer.byteLength(await bad.text())));
  });

  it('announces a decision made at once to those waiting on it, after answering', async () => {
    const e = act('crm.read', { customerId: 'C-2' });
    const waiting = h.client.waitForDecision(e.id, { timeoutMs: 10_000 });
    const res = await post(e);
    expect(await res.json()).toMatchObject({ decision: 'allow' });
    // The waiter hears it from the decision store (Redis), not from this answer.
    await expect(waiting).resolves.toMatchObject({ escalationId: e.id, status: 'allowed', proceed: true });
    expect(await h.client.getDecision(e.id)).toMatchObject({ escalationId: e.id, status: 'allowed' });
  });

  it("denies an action a rule forbids with 200, naming the rule and giving its reason", async () => {
    const e = act('payments.refund', { amountUsd: 6000 });
    const res = await post(e);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ decision: 'deny', status: 'denied', code: 'policy_denied', rule: 'policy.agents[0].deny[1]', reason: 'refunds over $5,000 go through finance, not agents' });
  });

  it('answers a supervised action allow at once and posts its review card on its own job', async () => {
    const e = act('tickets.create', { title: 'follow up' });
    const res = await post(e);
    expect(await res.json()).toMatchObject({ decision: 'allow', tier: 'supervised' });
    await h.card(e.id);
  });

  it('answers a pending action 202 with Location, posts its card off the request, and the poll returns the approval', async () => {
    const e = makeEscalation();
    const res = await post(e);
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/api/escalations/${e.id}`);
    expect(await res.json()).toMatchObject({ escalationId: e.id, decision: 'pending', status: 'pending', code: 'needs_approval' });

    // Its card job names the route's channel (ids only, no request text): its turn at intake is that channel's.
    expect((await h.queue.getJob(e.id))?.data).toEqual({ escalationId: e.id, channel: REFUNDS_CHANNEL });
    const polled = get(`${res.headers.get('location')}?wait=25`);
    const card = await h.card(e.id);
    expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
    const decided = await polled;
    expect(decided.status).toBe(200);
    expect(await decided.json()).toMatchObject({ escalationId: e.id, status: 'approved', proceed: true, decision: { by: APPROVER } });
  });

  it('holds a pending answer with ?wait= until a person decides, then answers 200', async () => {
    const e = makeEscalation();
    const answered = post(e, { query: '?wait=25' });
    await h.click(APPROVER, 'countersign.approve', await h.card(e.id));
    const res = await answered;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ escalationId: e.id, decision: 'allow', status: 'approved' });
  });

  it('answers 202 still pending when nobody decides within ?wait=', async () => {
    const e = makeEscalation();
    const res = await post(e, { query: '?wait=1' });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ decision: 'pending' });
  });

  it('answers the same request twice the same, and posts one card, also for the agent\'s own BullMQ job of that id', async () => {
    const e = makeEscalation();
    const [a, b] = await Promise.all([post(e), post(e)]);
    const answers = [await a.json(), await b.json()] as Array<Record<string, unknown>>;
    expect([a.status, b.status]).toEqual([202, 202]);
    const without = ({ code: _code, ...rest }: Record<string, unknown>) => rest;
    expect(without(answers[0]!)).toEqual(without(answers[1]!));
    expect(answers.map((x) => x.code).sort()).toEqual(['duplicate', 'needs_approval']);

    await h.card(e.id);
    const again = await post(e);
    expect(again.status).toBe(202);
    expect(without((await again.json()) as Record<string, unknown>)).toEqual(without(answers[0]!));
    // Its jobId is the card job's, so the client waits for that job: under a loaded machine (other test files, Slack's pace) longer than the client's default 10 s.
    expect(await h.client.authorize(e, { timeoutMs: 40_000 })).toMatchObject({ escalationId: e.id, decision: 'pending' });
    await cardJobDone(e.id);
    expect(cardsFor(e.id)).toHaveLength(1);
    expect(await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'card_posted'`).toHaveLength(1);
  }, 60_000);

  it('answers a repeat after the decision with the decision', async () => {
    const e = makeEscalation();
    await post(e);
    await h.click(APPROVER, 'countersign.approve', await h.card(e.id));
    await eventually(async () => ((await h.sql`select 1 from escalations where id = ${e.id} and status = 'approved'`).length ? true : undefined), 'approved');
    const res = await post(e);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ decision: 'allow', status: 'approved', code: 'duplicate' });
  });
});

describe('a pending escalation whose card job was lost', () => {
  it('gets its card from the sweep', async () => {
    const e = makeEscalation();
    expect((await post(e)).status).toBe(202);
    await h.card(e.id);
    await cardJobDone(e.id);
    // As if the process died between the row's commit and its card job's enqueue, minutes ago.
    await h.sql`update escalations set card_state = 'none', card_ts = null, created_at = created_at - interval '5 minutes' where id = ${e.id}`;
    await h.queue.remove(e.id);
    const maintenance = new Queue(MAINTENANCE_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      await maintenance.add('sweep', {});
    } finally {
      await maintenance.close();
    }
    await eventually(async () => (cardsFor(e.id).length === 2 ? true : undefined), 'the card posted again by the sweep');
    await eventually(async () => ((await h.sql`select 1 from escalations where id = ${e.id} and card_state = 'posted'`).length ? true : undefined), 'card recorded');
  });
});

describe('POST /api/authorize with bad input', () => {
  it('answers 400 naming the field, and records the rejection', async () => {
    const e = makeEscalation({ confidence: 1.5 });
    const res = await post(e);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string; errors: Array<{ path: string; message: string }> };
    expect(body.error).toBe('invalid_escalation');
    expect(body.errors.map((x) => x.path)).toEqual(['confidence']);
    expect(body.message).toContain('confidence:');
    const [row] = await h.sql<{ status: string }[]>`select status from escalations where id = ${e.id}`;
    expect(row?.status).toBe('rejected');
    expect(cardsFor(e.id)).toHaveLength(0);
  });

  it('names a missing required field', async () => {
    const { handoff: _handoff, ...rest } = makeEscalation();
    const body = (await (await post(rest)).json()) as { errors: Array<{ path: string }> };
    expect(body.errors.map((x) => x.path)).toContain('handoff');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await post('{"version": 1,');
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_json' });
  });

  it('answers 413 for a body over the limit, and 415 for one that is not JSON by its type', async () => {
    const big = await post(JSON.stringify({ ...makeEscalation(), reasoning: 'x'.repeat(1024 * 1024 + 1) }));
    expect(big.status).toBe(413);
    const typed = await post(makeEscalation(), { contentType: 'text/plain' });
    expect(typed.status).toBe(415);
  });

  it('answers 413 to a body streamed without a length once it passes the limit, and goes on serving', async () => {
    const status = await new Promise<number | string>((resolve) => {
      const req = http.request(`${h.baseUrl}/api/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}`, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('error', (err) => resolve(err.message));
      // 2.5 MiB in 64 KiB chunks, past the 1 MiB limit; the server may stop reading before the end.
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < 40) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
    expect((await post(act('crm.read', { customerId: 'cus_1' }))).status).toBe(200);
  });

  it('answers 400 naming wait for a wait out of range', async () => {
    const res = await post(makeEscalation(), { query: '?wait=600' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: Array<{ path: string }> }).errors).toEqual([{ path: 'wait', message: expect.stringContaining('0 to 25') }]);
  });

  it('answers 401 without a token or with a wrong one, and records nothing', async () => {
    const e = act('crm.read', {});
    expect((await post(e, { token: null })).status).toBe(401);
    const wrong = await post(e, { token: 'not-a-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect(await h.sql`select 1 from escalations where id = ${e.id}`).toHaveLength(0);
  });
});
