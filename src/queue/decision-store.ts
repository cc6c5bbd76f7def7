import type { Redis } from 'ioredis';
import type { DecisionMessage } from '../domain/decision.js';
import type { DecisionStorePort } from '../flow/ports.js';
import { DECISION_TTL_SEC, decisionKey, decisionsChannel } from './names.js';
import { turnBatcher } from './turn-batch.js';

/** Decisions stored in one MULTI: enough to share it, small enough not to stall Redis. */
const MAX_PER_MULTI = 200;

/**
 * Stores each final decision in Redis and announces it, for `waitForDecision`.
 * Each caller resumes once its decision is stored (MULTI … EXEC, so the SET
 * and PUBLISH go together). Decisions published in one turn, or while a MULTI
 * is on its way, share the next one (turn-batch.ts).
 */
export function createDecisionStore(redis: Redis, prefix: string): DecisionStorePort {
  const store = turnBatcher<DecisionMessage, void>(MAX_PER_MULTI, async (batch) => {
    const multi = redis.multi();
    for (const { input } of batch) {
      const json = JSON.stringify(input);
      multi.set(decisionKey(prefix, input.escalationId), json, 'EX', DECISION_TTL_SEC).publish(decisionsChannel(prefix), json);
    }
    const replies = await multi.exec();
    if (!replies) throw new Error('decision store: MULTI aborted');
    // A command refused inside the MULTI comes back as an error in its reply.
    batch.forEach((w, i) => {
      const err = replies[2 * i]?.[0] ?? replies[2 * i + 1]?.[0];
      if (err) w.reject(err);
      else w.resolve();
    });
  });
  return {
    publish: store,
    async restore(messages) {
      for (let i = 0; i < messages.length; i += MAX_PER_MULTI) {
        const multi = redis.multi();
        for (const m of messages.slice(i, i + MAX_PER_MULTI)) multi.set(decisionKey(prefix, m.escalationId), JSON.stringify(m), 'EX', DECISION_TTL_SEC);
        if (!(await multi.exec())) throw new Error('decision store: MULTI aborted');
      }
    },
  };
}
