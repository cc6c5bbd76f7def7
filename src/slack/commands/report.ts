import { buildMonthlyReport } from '../../flow/governance-report.js';
import { reportInstantFor } from '../../domain/governance-report.js';
import type { Subcommand } from './types.js';

/**
 * `/countersign report [YYYY-MM]`: the monthly governance report on demand,
 * to the caller alone; default last month, in `reports.monthly.tz` (else UTC).
 */
export const reportCommand: Subcommand = {
  name: 'report',
  help: '`/countersign report [YYYY-MM]`: the monthly governance report (volume, error rate, budget, reasons, time to decision, mode changes, proposals), default last month',
  async run({ deps, args }) {
    const tz = deps.config.current().config.reports?.monthly?.tz ?? 'UTC';
    const month = args[0];
    let at = deps.now();
    if (month !== undefined) {
      const asked = reportInstantFor(month, tz);
      if (!asked) return `Cannot build that report: the month must look like 2026-10 (got "${month.slice(0, 20)}").`;
      at = asked;
    }
    const { messages } = await buildMonthlyReport(deps, at, tz);
    const [first, ...rest] = messages;
    const more = rest.length ? `\n_${rest.length} more part${rest.length === 1 ? '' : 's'} in the scheduled report._` : '';
    return { text: `${first!.text}${more}`, blocks: first!.blocks as object[] };
  },
};
