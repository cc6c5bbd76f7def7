import { createHash } from 'node:crypto';
import type { Escalation } from './escalation.js';

/** JSON with object keys sorted at every depth, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * Binds a decision to the exact request a human saw: agent, action and
 * params. Hex SHA-256; any change to those yields another digest, and the
 * guarded UPDATE then matches nothing.
 */
export function requestDigest(e: Pick<Escalation, 'id' | 'agent' | 'action' | 'executionId'>): string {
  return createHash('sha256')
    .update(canonicalJson({ id: e.id, executionId: e.executionId, agent: e.agent, action: e.action }))
    .digest('hex');
}

/**
 * What an approval with edits is bound to: the digest of the request as the
 * agent asked it, and the params the approver changed, with their new values.
 * Hex SHA-256 of `{"editedParams":{…},"requestDigest":"…"}` (canonicalJson).
 * An agent recomputes it from its own request's digest and the `editedParams`
 * it received. Approved as asked (no edits): the request digest itself.
 */
export function approvedDigest(requestDigestHex: string, editedParams: Readonly<Record<string, unknown>>): string {
  if (Object.keys(editedParams).length === 0) return requestDigestHex;
  return createHash('sha256').update(canonicalJson({ requestDigest: requestDigestHex, editedParams })).digest('hex');
}
