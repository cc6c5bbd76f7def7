import { budgetWindows } from '../domain/budget.js';
import { percent, usd, usdMicros } from '../domain/format.js';
import { safeCode } from '../domain/slack-text.js';
import type { FlowPorts } from './ports.js';

/** Spend against each cap, per agent (or one agent), and the organisation's month. */
export async function budgetReport(ports: Pick<FlowPorts, 'config' | 'budgets' | 'flags' | 'now'>, agentId?: string): Promise<string> {
  const { policy } = ports.config.current().config;
  if (!policy) return 'No policy is configured, so no budgets apply.';
  const agents = policy.agents.filter((a) => !agentId || a.id === agentId);
  if (agents.length === 0) return `No agent ${safeCode(agentId ?? '', 202)} in the policy.`;
  const lines: string[] = [];
  let orgLine = '';
  for (const a of agents) {
    const windows = budgetWindows(policy, { agentId: a.id, executionId: '-' }, ports.now());
    const totals = await ports.budgets.totals(windows);
    const state = await ports.flags.read(a.id, '-', '-');
    const parts = windows
      .map((w, i) => ({ w, t: totals[i] ?? 0 }))
      .filter(({ w }) => w.kind === 'day' || w.kind === 'week')
      .map(({ w, t }) => `${w.kind === 'day' ? 'today' : 'this week'} ${usdMicros(t)}${w.capMicros !== undefined ? ` of ${usdMicros(w.capMicros)} (${percent(Math.round((100 * t) / Math.max(1, w.capMicros)) / 100)})` : ' (no cap)'}`);
    const task = a.budgets.perTaskUsd !== undefined ? ` · per task cap ${usd(a.budgets.perTaskUsd)}` : '';
    lines.push(`• ${safeCode(a.id, 202)}${state.paused ? ' :octagonal_sign: *paused*' : ''}: ${parts.join(' · ')}${task}`);
    const month = windows.findIndex((w) => w.kind === 'month');
    const mw = windows[month]!;
    orgLine = `• organisation this month: ${usdMicros(totals[month] ?? 0)}${mw.capMicros !== undefined ? ` of ${usdMicros(mw.capMicros)}` : ''}${policy.organization.projectedMonthlyUsd !== undefined ? ` (alert at 120% of the ${usd(policy.organization.projectedMonthlyUsd)} projection)` : ''}`;
  }
  return ['*Spend against caps*', ...lines, orgLine].join('\n');
}
