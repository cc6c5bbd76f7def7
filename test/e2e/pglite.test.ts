import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/file.js';
import { start, type Running } from '../../src/main.js';
import { ESCALATIONS_QUEUE } from '../../src/queue/names.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { API_TOKEN, APPROVER, APPROVER_2, SIGNING_SECRET, exampleConfigText, makeEscalation } from '../support/harness.js';
import type { Redis } from 'ioredis';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../support/services.js';
import { blockActionsBody, blockActionsPayload, postSigned } from '../support/slack-signing.js';

let fake: FakeSlack;
let bot: Running;
let queue: Queue;
let dir: string;

beforeAll(async () => {
  fake = await startFakeSlack();
  dir = mkdtempSync(join(tmpdir(), 'countersign-pglite-'));
  const prefix = uniqueName('cst');
  // DATABASE_URL unset: the embedded PGlite, with the same migrations.
  const env = loadEnv({
    REDIS_URL,
    PORT: '0',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_API_URL: fake.url,
    API_TOKENS: API_TOKEN,
    COUNTERSIGN_DATA_DIR: dir,
    COUNTERSIGN_QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
  bot = await start(env, parseConfig(exampleConfigText));
  queue = new Queue(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix });
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await queue?.obliterate({ force: true }).catch(() => {});
  // The bot's internal queues, caches and counters share the prefix: drop every key of it.
  if (queue) await dropRedisPrefix((await queue.getBackend().client) as unknown as Redis, queue.opts.prefix!);
  await queue?.close();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded PGlite', () => {
  it('runs the whole loop without a Postgres server', async () => {
    const e = makeEscalation();
    await queue.add('escalation', e, { jobId: e.id });
    const call = await fake.waitFor(
      (c) => c.method === 'chat.postMessage' && (c.args.metadata as { event_payload?: { escalation_id?: string } })?.event_payload?.escalation_id === e.id,
    );
    const card = fake.messages(String(call.args.channel)).find((m) => m.metadata?.event_payload.escalation_id === e.id)!;
    const value = JSON.stringify(card.blocks).match(/"value":"([^"]+)"/)![1]!;
    const body = blockActionsBody(
      blockActionsPayload({ userId: APPROVER, channel: String(call.args.channel), messageTs: card.ts, actionId: 'countersign.approve', value }),
    );
    expect((await postSigned(`http://127.0.0.1:${bot.port}/slack/events`, SIGNING_SECRET, body)).status).toBe(200);
    await fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    const res = await fetch(`http://127.0.0.1:${bot.port}/api/escalations/${e.id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(await res.json()).toMatchObject({ status: 'approved', decision: { by: APPROVER } });
  });
  it('counts a quorum under the row lock, as the sandbox does: two approvers, one decision', async () => {
    const base = makeEscalation();
    const e = { ...base, agent: { ...base.agent, id: 'treasury-agent' }, issueType: 'treasury', confidence: 0.95, cost: { tokens: 1, usd: 0.01 }, action: { type: 'payments.transfer', params: { amountUsd: 20_000 }, reversible: false } };
    await queue.add('escalation', e, { jobId: e.id });
    const call = await fake.waitFor(
      (c) => c.method === 'chat.postMessage' && (c.args.metadata as { event_payload?: { escalation_id?: string } })?.event_payload?.escalation_id === e.id,
    );
    const card = fake.messages(String(call.args.channel)).find((m) => m.metadata?.event_payload.escalation_id === e.id)!;
    const value = JSON.stringify(card.blocks).match(/"value":"([^"]+)"/)![1]!;
    const click = (userId: string) =>
      postSigned(`http://127.0.0.1:${bot.port}/slack/events`, SIGNING_SECRET, blockActionsBody(blockActionsPayload({ userId, channel: String(call.args.channel), messageTs: card.ts, actionId: 'countersign.approve', value })));
    await Promise.all([click(APPROVER), click(APPROVER_2), click(APPROVER)]);
    const res = await fetch(`http://127.0.0.1:${bot.port}/api/escalations/${e.id}?wait=10`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    const body = (await res.json()) as { status: string; approvals: { required: number; by: string[] } };
    expect(body).toMatchObject({ status: 'approved', approvals: { required: 2 } });
    expect([...body.approvals.by].sort()).toEqual([APPROVER, APPROVER_2]);
  });
});
