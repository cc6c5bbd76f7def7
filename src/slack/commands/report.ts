import { DateTime } from 'luxon';
import { buildMonthlyReport } from '../../flow/governance-report.js';
import { reportInstantFor } from '../../domain/governance-report.js';
import { safeText } from '../../domain/slack-text.js';
import type { Subcommand } from './types.js';
import { plural } from '../../domain/format.js';

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
      if (!asked) return `Cannot build that report: the month must look like 2026-10 (got "${safeText(month, 20)}").`;
      at = asked;
    }
    const { messages, agents } = await buildMonthlyReport(deps, at, tz);
    const [first, ...rest] = messages;
    const more = rest.length ? `\n_${plural(rest.length, 'more part')} in the scheduled report._` : '';
    // Nothing last month (a new install, say): point at the month in progress.
    if (month === undefined && agents.length === 0) {
      const hint = `Try the month so far: \`/countersign report ${DateTime.fromJSDate(deps.now(), { zone: tz }).toFormat('yyyy-MM')}\``;
      return { text: `${first!.text}. ${hint}`, blocks: [...first!.blocks, { type: 'context', elements: [{ type: 'mrkdwn', text: hint }] }] };
    }
    return { text: `${first!.text}${more}`, blocks: first!.blocks };
  },
};
