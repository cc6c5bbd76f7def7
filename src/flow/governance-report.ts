import { governanceFigures } from '../db/queries/governance-report.js';
import { recordEvent } from '../db/queries/events.js';
import { previousMonth, proposeThresholdChanges, reportInstantFor } from '../domain/governance-report.js';
import { governanceReportMessages, type ReportAgent } from '../slack/cards/governance-report.js';
import type { FlowPorts, SlackMessage } from './ports.js';

/** The report for the calendar month before `at` (in the report's time zone), built but not posted. */
export async function buildMonthlyReport(ports: Pick<FlowPorts, 'db' | 'config'>, at: Date, tz: string): Promise<{ label: string; messages: SlackMessage[]; agents: ReportAgent[] }> {
  const { config } = ports.config.current();
  const { from, to, label } = previousMonth(at, tz);
  const figures = await governanceFigures(ports.db, from, to, tz);
  const policy = config.policy;
  const caps: Record<string, number | undefined> = {};
  const agents = figures.map((f) => {
    const agent = policy?.agents.find((a) => a.id === f.agentId);
    caps[f.agentId] = agent?.budgets.dailyUsd;
    const proposals = proposeThresholdChanges({
      ...f,
      confidenceThreshold: agent?.confidenceThreshold ?? policy?.confidenceThreshold ?? 0.7,
      dailyCapUsd: agent?.budgets.dailyUsd,
      deadlineMinutes: config.defaults.deadlineMinutes,
    });
    return { ...f, proposals };
  });
  return { label, messages: governanceReportMessages(label, agents, caps), agents };
}

/**
 * Posts the monthly report to `reports.monthly.channel`, with an audit event naming the month:
 * `month` ("2026-10") when given, else the calendar month before `at`.
 */
export async function postMonthlyReport(ports: Pick<FlowPorts, 'db' | 'config' | 'slack' | 'log'>, at: Date, month?: string): Promise<{ kind: 'done' | 'skipped' }> {
  const monthly = ports.config.current().config.reports?.monthly;
  if (!monthly) return { kind: 'skipped' };
  const asOf = (month !== undefined ? reportInstantFor(month, monthly.tz) : undefined) ?? at;
  const { label, messages, agents } = await buildMonthlyReport(ports, asOf, monthly.tz);
  const [first, ...rest] = messages;
  const { ts } = await ports.slack.post(monthly.channel, first!);
  for (const m of rest) await ports.slack.post(monthly.channel, m, ts);
  await recordEvent(ports.db, { type: 'governance_report_posted', actor: 'system', data: { month: label, channel: monthly.channel, ts, agents: agents.length } });
  return { kind: 'done' };
}
