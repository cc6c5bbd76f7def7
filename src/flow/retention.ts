import { retentionCutoff } from '../domain/audit-config.js';
import { pruneAudit, type PruneResult } from '../db/queries/audit-anchor.js';
import type { FlowPorts } from './ports.js';

/** Monthly budgets read the spend ledger, so nothing younger than this is ever pruned (the SQL function refuses it too). */
export const MIN_RETENTION_DAYS = 31;

/** Events per transaction: each step is short, and leaves its own checkpoint. */
const STEP_EVENTS = 100_000;

export type RetentionResult =
  | { kind: 'pruned'; cutoff: Date; result: PruneResult; steps: number }
  | { kind: 'skipped'; reason: 'not_configured' | 'nothing_expired'; cutoff?: Date };

/**
 * The daily retention job: removes records older than `audit.retention`
 * through countersign_prune_audit, which leaves a checkpoint that `verify`
 * starts from. Running it again the same day prunes nothing.
 */
export async function applyRetention(ports: Pick<FlowPorts, 'db' | 'config' | 'now' | 'log'>, stepEvents = STEP_EVENTS): Promise<RetentionResult> {
  const retention = ports.config.current().config.audit?.retention;
  if (!retention) return { kind: 'skipped', reason: 'not_configured' };
  const now = ports.now();
  const floor = new Date(now.getTime() - MIN_RETENTION_DAYS * 86_400_000);
  const wanted = retentionCutoff(retention, now);
  const cutoff = wanted < floor ? wanted : floor;
  let total: PruneResult | undefined;
  let steps = 0;
  // Each step either moves the checkpoint forward or returns nothing, so this ends.
  for (;;) {
    const step = await pruneAudit(ports.db, cutoff, 'system:retention', stepEvents);
    if (!step) break;
    steps++;
    total = { prunedUpTo: step.prunedUpTo, hash: step.hash, events: (total?.events ?? 0) + step.events };
  }
  if (!total) return { kind: 'skipped', reason: 'nothing_expired', cutoff };
  ports.log.info({ cutoff: cutoff.toISOString(), prunedUpTo: total.prunedUpTo, events: total.events, steps }, 'audit records past retention pruned');
  return { kind: 'pruned', cutoff, result: total, steps };
}
