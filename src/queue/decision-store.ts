import type { Redis } from 'ioredis';
import type { DecisionStorePort } from '../flow/ports.js';
import { DECISION_TTL_SEC, decisionKey, decisionsChannel } from './names.js';

/** Stores each final decision in Redis and announces it, for `waitForDecision`. */
export function createDecisionStore(redis: Redis, prefix: string): DecisionStorePort {
  return {
    async publish(message) {
      const json = JSON.stringify(message);
      await redis
        .multi()
        .set(decisionKey(prefix, message.escalationId), json, 'EX', DECISION_TTL_SEC)
        .publish(decisionsChannel(prefix), json)
        .exec();
    },
  };
}
