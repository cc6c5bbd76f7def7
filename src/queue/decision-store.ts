import type { Redis } from 'ioredis';
import type { DecisionMessage } from '../domain/decision.js';
import type { DecisionStorePort } from '../flow/ports.js';
import { DECISION_TTL_SEC, decisionKey, decisionsChannel } from './names.js';
import { turnBatcher } from './turn-batch.js';
import { withScripts } from './scripts.js';

/** Decisions stored in one script call: enough to share it, small enough not to stall Redis. */
const MAX_PER_CALL = 200;

/**
 * KEYS: each decision's key; ARGV: the TTL (s), the channel, then each decision's JSON.
 * A script, not MULTI: Redis runs it whole, as it would the MULTI, and ioredis sends it
 * without building a pipeline object per call (a MULTI copies every script defined on the
 * connection into one, and its garbage outlived young collections: GC pauses on the hot path).
 */
const STORE_AND_ANNOUNCE = `
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 2], 'EX', ARGV[1])
  redis.call('PUBLISH', ARGV[2], ARGV[i + 2])
end
return #KEYS`;

interface StoreScripts {
  csStoreDecisions(...args: (string | number)[]): Promise<number>;
}

/**
 * Stores each final decision in Redis and announces it, for `waitForDecision`.
 * Each caller resumes once its decision is stored (one Lua script, so the SET
 * and PUBLISH go together). Decisions published in one turn, or while a call
 * is on its way, share the next one (turn-batch.ts).
 */
export function createDecisionStore(redis: Redis, prefix: string): DecisionStorePort {
  const r = withScripts<StoreScripts>(redis, { csStoreDecisions: { lua: STORE_AND_ANNOUNCE } });
  const store = turnBatcher<DecisionMessage, void>(MAX_PER_CALL, async (batch) => {
    const jsons = batch.map(({ input }) => JSON.stringify(input));
    await r.csStoreDecisions(batch.length, ...batch.map(({ input }) => decisionKey(prefix, input.escalationId)), DECISION_TTL_SEC, decisionsChannel(prefix), ...jsons);
    for (const w of batch) w.resolve();
  });
  return {
    publish: store,
    async restore(messages) {
      for (let i = 0; i < messages.length; i += MAX_PER_CALL) {
        const multi = redis.multi();
        for (const m of messages.slice(i, i + MAX_PER_CALL)) multi.set(decisionKey(prefix, m.escalationId), JSON.stringify(m), 'EX', DECISION_TTL_SEC);
        if (!(await multi.exec())) throw new Error('decision store: MULTI aborted');
      }
    },
  };
}
