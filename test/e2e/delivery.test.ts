import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { CountersignClient } from '../../src/client/index.js';
import { CALLBACKS_QUEUE, MAINTENANCE_QUEUE, callbackJobId } from '../../src/queue/names.js';
import { APPROVER, makeEscalation, type Harness } from '../support/harness.js';
import { REDIS_URL, eventually } from '../support/services.js';

let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot));

describe('handing the decision back', () => {
  it('gives an agent that was offline during the decision the decision when it asks later', async () => {
    const agent = new CountersignClient({ redisUrl: REDIS_URL, prefix: h.prefix });
    const e = makeEscalation();
    await agent.submit(e);
    await agent.close(); // the agent goes away
    const card = await h.card(e.id);
    await h.click(APPROVER, 'countersign.approve', card);
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);

    const back = new CountersignClient({ redisUrl: REDIS_URL, prefix: h.prefix });
    try {
      const d = await back.waitForDecision(e.id, { timeoutMs: 5000 });
      expect(d).toMatchObject({ escalationId: e.id, status: 'approved', proceed: true, decision: { by: APPROVER } });
    } finally {
      await back.close();
    }
  });

  it('submitting the same id twice posts one card', async () => {
    const e = makeEscalation();
    await h.client.submit(e);
    await h.client.submit(e);
    await h.card(e.id);
    const rows = await h.sql`select count(*)::int as n from events where escalation_id = ${e.id} and type = 'received'`;
    expect(rows[0]!.n).toBe(1);
  });

  it('rejects a waitForDecision that runs out of time, so the agent does not proceed', async () => {
    const e = makeEscalation();
    await h.client.submit(e);
    await expect(h.client.waitForDecision(e.id, { timeoutMs: 200 })).rejects.toThrow(/no decision/);
  });

  it('validates on submit and names the field', async () => {
    await expect(h.client.submit({ ...makeEscalation(), confidence: 3 })).rejects.toThrow(/confidence/);
  });

  it('retries a failing callback with backoff until the agent answers 2xx', async () => {
    cb.failNext(2);
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await h.click(APPROVER, 'countersign.approve', card);
    const got = await cb.waitFor(e.id, 20_000);
    expect(got.json).toMatchObject({ status: 'approved' });
    const ev = await eventually(async () => {
      const [row] = await h.sql`select data from events where escalation_id = ${e.id} and type = 'agent_notified' and data->>'via' = 'callback'`;
      return row;
    }, 'the callback recorded');
    expect(ev.data).toMatchObject({ attempt: 3, httpStatus: 204 });
    // The third attempt names the same delivery as the first would have: what the agent dedupes on.
    expect(got.headers['x-countersign-delivery']).toBe(`${e.id}:decision`);
  });

  it('calls back once even when its job runs again after delivering (a crash before the job completed, a lapsed lock)', async () => {
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    await h.click(APPROVER, 'countersign.approve', card);
    await cb.waitFor(e.id);
    const callbacks = new Queue(CALLBACKS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      const jobId = callbackJobId(e.id, 'decision');
      await eventually(async () => ((await callbacks.getJobState(jobId)) === 'completed' ? true : undefined), 'the callback job completed');
      // The same job again, as BullMQ runs it when its first run's completion never reached Redis.
      await (await callbacks.getJob(jobId))!.remove();
      await callbacks.add('callback', { escalationId: e.id }, { jobId });
      // The job is read once its state says completed, so its return value is there too.
      const rerun = await eventually(async () => ((await callbacks.getJobState(jobId)) === 'completed' ? callbacks.getJob(jobId) : undefined), 'the repeated callback job completed');
      expect(rerun!.returnvalue).toBe('skipped');
    } finally {
      await callbacks.close();
    }
    expect(cb.received.filter((r) => (r.json as { escalationId?: string }).escalationId === e.id)).toHaveLength(1);
    const notified = await h.sql`select id from events where escalation_id = ${e.id} and type = 'agent_notified' and data->>'via' = 'callback'`;
    expect(notified).toHaveLength(1);
  });

  it('re-sends a decision whose notification was lost (committed, never enqueued), via the sweep', async () => {
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    // As if the process died right after the decision's commit.
    await h.sql`update escalations set status = 'approved', decided_by = ${APPROVER}, decided_at = now() - interval '5 minutes' where id = ${e.id}`;
    const maintenance = new Queue(MAINTENANCE_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      await maintenance.add('sweep', {});
    } finally {
      await maintenance.close();
    }
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    expect((await cb.waitFor(e.id)).json).toMatchObject({ status: 'approved', decision: { by: APPROVER } });
  });
});
