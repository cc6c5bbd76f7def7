import { budgetWindows } from '../domain/budget.js';
import { spendBetween } from '../db/queries/spend.js';
import type { FlowPorts } from './ports.js';

/**
 * Redis runs without persistence here, so its budget counters can vanish
 * with a restart. The ledger in Postgres is the truth: at start, every
 * current agent day/week and the org month is seeded from it (only where
 * the counter is missing, so a live counter is never rolled back).
 */
export async function rebuildBudgets(ports: Pick<FlowPorts, 'db' | 'config' | 'budgets' | 'now'>): Promise<number> {
  const { policy } = ports.config.current().config;
  if (!policy) return 0;
  let seeded = 0;
  let orgDone = false;
  for (const agent of policy.agents) {
    for (const w of budgetWindows(policy, { agentId: agent.id, executionId: '-' }, ports.now())) {
      if (w.kind === 'task' || (w.kind === 'month' && orgDone)) continue;
      const micros = await spendBetween(ports.db, w.from, w.to, w.kind === 'month' ? undefined : agent.id);
      await ports.budgets.seed(w, micros);
      if (w.kind === 'month') orgDone = true;
      seeded++;
    }
  }
  return seeded;
}
