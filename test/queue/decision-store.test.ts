import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionMessage, type DecisionMessage } from '../../src/domain/decision.js';
import { createDecisionStore } from '../../src/queue/decision-store.js';
import { DECISION_TTL_SEC, decisionKey, decisionsChannel } from '../../src/queue/names.js';
import { openRedisMonitor } from '../support/redis-monitor.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../support/services.js';

let redis: Redis;
let subscriber: Redis;
let prefix: string;

const allowed = (at: Date): DecisionMessage =>
  decisionMessage({ id: randomUUID(), executionId: 'exec-1', status: 'allowed', digest: 'd', decidedBy: 'policy', decidedAt: at, decisionReason: 'autonomous', failSafe: false, errors: null });

beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  subscriber = new Redis(REDIS_URL);
  prefix = uniqueName('cst');
});
afterAll(async () => {
  await dropRedisPrefix(redis, prefix);
  redis.disconnect();
  subscriber.disconnect();
});

describe('the decision store', () => {
  it('stores every decision under its key for DECISION_TTL_SEC and announces each on the channel, in the order published', async () => {
    const store = createDecisionStore(redis, prefix);
    const heard: DecisionMessage[] = [];
    await subscriber.subscribe(decisionsChannel(prefix));
    subscriber.on('message', (_channel, json: string) => heard.push(JSON.parse(json) as DecisionMessage));
    const messages = Array.from({ length: 250 }, () => allowed(new Date('2026-12-07T10:00:00Z')));
    // 250 in one turn: more than one script call takes (200), so two share the work.
    await Promise.all(messages.map((m) => store.publish(m)));
    for (const m of messages) {
      expect(JSON.parse((await redis.get(decisionKey(prefix, m.escalationId)))!)).toEqual(m);
      const ttl = await redis.ttl(decisionKey(prefix, m.escalationId));
      expect(ttl).toBeGreaterThan(DECISION_TTL_SEC - 60);
      expect(ttl).toBeLessThanOrEqual(DECISION_TTL_SEC);
    }
    await expect.poll(() => heard.length).toBe(messages.length);
    expect(heard.map((m) => m.escalationId)).toEqual(messages.map((m) => m.escalationId));
  });

  it('leaves the connection it is given without a MULTI per decision: a caller that shares it with BullMQ stays cheap', async () => {
    // The store's own command, defined once however many stores share the connection.
    createDecisionStore(redis, prefix);
    const store = createDecisionStore(redis, prefix);
    // MONITOR sees every client's commands: only this connection's count.
    const addr = /\baddr=(\S+)/.exec(String(await redis.client('INFO')))![1]!;
    const monitor = await openRedisMonitor();
    const m = allowed(new Date('2026-12-07T10:00:00Z'));
    await store.publish(m);
    await expect.poll(() => monitor.commandsFrom(addr).some((c) => c === 'evalsha' || c === 'eval')).toBe(true);
    monitor.close();
    expect(monitor.commandsFrom(addr)).not.toContain('multi');
    expect(await redis.get(decisionKey(prefix, m.escalationId))).not.toBeNull();
  });

  it('rejects every caller of a call that Redis never ran, and stores none of them', async () => {
    // Nothing listens on port 1: every command fails at once instead of waiting in the offline queue.
    const down = new Redis({ host: '127.0.0.1', port: 1, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => null });
    down.on('error', () => {});
    const store = createDecisionStore(down, prefix);
    const messages = [allowed(new Date('2026-12-07T10:00:00Z')), allowed(new Date('2026-12-07T10:00:01Z'))];
    const results = await Promise.allSettled(messages.map((m) => store.publish(m)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const m of messages) expect(await redis.get(decisionKey(prefix, m.escalationId))).toBeNull();
    down.disconnect();
  });
});
