import { DateTime } from 'luxon';
import { buildMonthlyReport } from '../../flow/governance-report.js';
import { safeText } from '../../domain/slack-text.js';
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
      const start = /^\d{4}-(0[1-9]|1[0-2])$/.test(month) ? DateTime.fromFormat(month, 'yyyy-MM', { zone: tz }) : undefined;
      if (!start?.isValid) return `Cannot build that report: the month must look like 2026-10 (got "${safeText(month, 20)}").`;
      // The report covers the month before `at`: ask as if on the 1st of the month after.
      at = start.plus({ months: 1 }).toJSDate();
    }
    const { messages } = await buildMonthlyReport(deps, at, tz);
    const [first, ...rest] = messages;
    const more = rest.length ? `\n_${rest.length} more part${rest.length === 1 ? '' : 's'} in the scheduled report._` : '';
    return { text: `${first!.text}${more}`, blocks: first!.blocks };
  },
};
