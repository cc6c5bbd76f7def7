import type { Redis } from 'ioredis';
import type { DecisionMessage } from '../domain/decision.js';
import type { DecisionStorePort } from '../flow/ports.js';
import { DECISION_TTL_SEC, decisionKey, decisionsChannel } from './names.js';

/** Decisions stored in one MULTI: enough to share it, small enough not to stall Redis. */
const MAX_PER_MULTI = 200;

/**
 * Stores each final decision in Redis and announces it, for `waitForDecision`.
 * Each caller resumes once its decision is stored (MULTI … EXEC, so the SET
 * and PUBLISH go together). Decisions published while a MULTI is on its way
 * share the next one: one round trip for many under load, none added alone.
 */
export function createDecisionStore(redis: Redis, prefix: string): DecisionStorePort {
  let pending: Array<{ message: DecisionMessage; resolve(): void; reject(err: unknown): void }> = [];
  let inFlight = false;
  let scheduled = false;

  const flush = (): void => {
    if (inFlight || pending.length === 0) return;
    const batch = pending.slice(0, MAX_PER_MULTI);
    pending = pending.slice(batch.length);
    inFlight = true;
    const multi = redis.multi();
    for (const { message } of batch) {
      const json = JSON.stringify(message);
      multi.set(decisionKey(prefix, message.escalationId), json, 'EX', DECISION_TTL_SEC).publish(decisionsChannel(prefix), json);
    }
    multi
      .exec()
      .then(
        (replies) => {
          // A command refused inside the MULTI comes back as an error in its reply.
          batch.forEach((b, i) => {
            const err = replies?.[2 * i]?.[0] ?? replies?.[2 * i + 1]?.[0] ?? (replies ? undefined : new Error('decision store: MULTI aborted'));
            if (err) b.reject(err);
            else b.resolve();
          });
        },
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      )
      .finally(() => {
        inFlight = false;
        flush();
      });
  };

  return {
    publish(message) {
      return new Promise<void>((resolve, reject) => {
        pending.push({ message, resolve, reject });
        if (inFlight || scheduled) return;
        // Decisions made in the same turn of the event loop share a MULTI.
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          flush();
        });
      });
    },
  };
}
