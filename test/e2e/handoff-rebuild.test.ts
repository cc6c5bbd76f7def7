import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHAINS_QUEUE } from '../../src/queue/names.js';
import { APPROVER, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { handoffConfig, pickHandoff } from '../support/handoff-config.js';
import { REDIS_URL, dropRedisPrefix, eventually } from '../support/services.js';

/**
 * A snooze's re-ping lives in Redis only, as a delayed job: when Redis comes
 * back empty, it is scheduled again from its `snoozed` record in Postgres,
 * for the same instant, and still fires once.
 */
let h: Harness;
let chains: Queue;
beforeAll(async () => {
  // The periodic check is what notices a flush: it drops no connection.
  h = await startHarness({ config: handoffConfig(), env: { REDIS_CHECK_MS: '200' } });
  chains = new Queue(CHAINS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
});
afterAll(async () => {
  await chains?.close();
  await h?.close();
});

describe('a snooze after Redis was emptied', () => {
  it('is put back from Postgres at the same instant, and still pings the snoozer once', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    await pickHandoff(h, APPROVER, card, 'snooze');
    const until = await eventually(async () => {
      const [r] = await h.sql`select data->>'until' as until from events where escalation_id = ${e.id} and type = 'snoozed'`;
      return r?.until as string | undefined;
    }, 'the snooze');
    const jobId = `chain-${e.id}-snooze-${APPROVER}-${new Date(until).getTime()}`;
    await eventually(async () => ((await chains.getJob(jobId)) ? true : undefined), 'the re-ping job');

    await dropRedisPrefix(h.redis, h.prefix);
    expect(await chains.getJob(jobId)).toBeUndefined();

    const job = await eventually(async () => (await chains.getJob(jobId)) ?? undefined, 'the re-ping job rebuilt', 20_000);
    expect(await job.getState()).toBe('delayed');
    expect(job.data).toEqual({ kind: 'snooze', escalationId: e.id, user: APPROVER, at: new Date(until).getTime() });
    expect(Math.abs(job.timestamp + job.delay - new Date(until).getTime())).toBeLessThan(1000);

    await job.promote();
    await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === APPROVER && String(c.args.text).includes('Your snooze is over'));
    await eventually(async () => ((await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'oncall_dm' and data->>'cause' = 'snooze'`).length === 1 ? true : undefined), 'one re-ping recorded');
    expect(h.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === APPROVER)).toHaveLength(1);
  }, 60_000);
});
