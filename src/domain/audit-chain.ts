import { createHash } from 'node:crypto';

/** The chain starts from this (64 zeros) before the first event. */
export const GENESIS = '0'.repeat(64);

/**
 * hash_n = SHA-256(hash_{n-1} ‖ "\n" ‖ canonical_n), hex. `canonical` is the
 * event as one JSON array text built by Postgres (id, escalation, execution,
 * type, actor, microsecond timestamp, jsonb data): every field is covered,
 * and jsonb's own text form fixes the key order.
 */
export function linkHash(prev: string, canonical: string): string {
  return createHash('sha256').update(prev).update('\n').update(canonical).digest('hex');
}

export type VerifyFinding =
  | { kind: 'ok'; checked: number; head: string; headEventId: number; unsealed: number; prunedUpTo: number }
  /** `unpruned`: the retention checkpoint says everything up to it was deleted, yet this event is still there (a forged checkpoint). */
  | { kind: 'broken'; eventId: number; reason: 'changed' | 'missing' | 'unpruned'; checked: number };
