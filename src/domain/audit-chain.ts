import { createHash } from 'node:crypto';
import { canonicalJson } from './digest.js';

/** An event as the chain sees it; `atMicros` is the timestamp in Unix microseconds, as text. */
export interface ChainedEvent {
  id: number;
  escalationId: string | null;
  executionId: string | null;
  type: string;
  actor: string;
  atMicros: string;
  data: unknown;
}

/** The chain starts from this (64 zeros) before the first event. */
export const GENESIS = '0'.repeat(64);

/** hash_n = SHA-256(hash_{n-1} ‖ canonical(event_n)), hex. Every field of the event is covered. */
export function linkHash(prev: string, e: ChainedEvent): string {
  const canonical = canonicalJson([e.id, e.escalationId, e.executionId, e.type, e.actor, e.atMicros, e.data]);
  return createHash('sha256').update(prev).update('\n').update(canonical).digest('hex');
}

export type VerifyFinding =
  | { kind: 'ok'; checked: number; head: string; unsealed: number }
  | { kind: 'broken'; eventId: number; reason: 'changed' | 'missing' | 'link_mismatch'; checked: number };
