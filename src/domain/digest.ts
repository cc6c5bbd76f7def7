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
