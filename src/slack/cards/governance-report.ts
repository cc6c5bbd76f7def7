import type { KnownBlock, MrkdwnElement } from '@slack/types';
import { MESSAGE_BLOCKS_MAX, MESSAGE_TEXT_TOTAL_SOFT_MAX, SECTION_TEXT_MAX, plainText, safeCode, safeText } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { capMessage } from './limits.js';
import type { AgentMonthFigures } from '../../db/queries/governance-report.js';
import { count, plural, usd, usdMicros } from '../../domain/format.js';
import { errorRateText } from '../../domain/promotion.js';

export interface ReportAgent extends AgentMonthFigures {
  proposals: string[];
}

const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });
const dur = (sec: number | null) => (sec === null ? '—' : sec < 90 ? `${Math.round(sec)} s` : sec < 5400 ? `${Math.round(sec / 60)} min` : `${(sec / 3600).toFixed(1)} h`);
const counts = (o: Record<string, number>) =>
  Object.entries(o)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${safeText(k, 80)} ${count(n)}`)
    .join(', ') || 'none';

/** One agent's figures as a section of mrkdwn lines. */
export function agentReportText(a: ReportAgent, dailyCapUsd?: number): string {
  const rate = a.actions > 0 ? errorRateText(a) : 'no actions';
  const cap = dailyCapUsd !== undefined ? ` · peak day ${usdMicros(a.peakDayMicros)} of ${usd(dailyCapUsd)} daily cap` : ` · peak day ${usdMicros(a.peakDayMicros)}`;
  const triggers = Object.fromEntries(Object.entries(a.byTrigger).map(([k, v]) => [k, v.count]));
  const rules = Object.fromEntries(Object.entries(a.byRule).map(([k, v]) => [k, v.count]));
  const lines = [
    `*${safeCode(a.agentId, 102)}*`,
    `• *Volume:* ${plural(a.requests, 'request')}, ${plural(a.actions, 'action')}`,
    `• *Error rate:* ${rate}`,
    `• *Budget:* ${usdMicros(a.spendMicros)} spent${cap}`,
    `• *Escalations by reason:* tier ${counts(a.byTier)}; triggers ${counts(triggers)}; rules ${counts(rules)}`,
    `• *Time to decision:* p50 ${dur(a.p50Sec)}, p90 ${dur(a.p90Sec)} (${plural(a.decisions, 'decision')})`,
    `• *Promotions and demotions:* ${Object.keys(a.modeEvents).length ? counts(a.modeEvents) : 'none'}`,
    `• *Proposed threshold changes:* ${a.proposals.length ? `\n${a.proposals.map((p) => `    ◦ ${p}`).join('\n')}` : 'none'}`,
  ];
  return lines.join('\n').slice(0, SECTION_TEXT_MAX);
}

/**
 * The monthly governance review, one section per agent, as one or more
 * messages: Slack refuses a message past 50 blocks or about 13k characters,
 * so agents beyond that go into follow-up messages (posted in the first one's thread).
 */
export function governanceReportMessages(label: string, agents: ReportAgent[], caps: Record<string, number | undefined>): SlackMessage[] {
  const head: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: plainText(`Governance review: ${label}`, 150) } },
    { type: 'context', elements: [mrkdwn(`${plural(agents.length, 'agent')} · figures for the calendar month · proposals are suggestions: nothing changes until the config does`)] },
  ];
  if (agents.length === 0) return [capMessage({ text: `Governance review for ${label}: no agent activity`, blocks: [...head, { type: 'section', text: mrkdwn(`No agent activity in ${label}.`) }] })];
  const pages: KnownBlock[][] = [head];
  for (const a of agents) {
    const block: KnownBlock = { type: 'section', text: mrkdwn(agentReportText(a, Object.hasOwn(caps, a.agentId) ? caps[a.agentId] : undefined)) };
    const page = pages[pages.length - 1]!;
    if (page.length > (pages.length === 1 ? 2 : 0) && (page.length + 1 > MESSAGE_BLOCKS_MAX || JSON.stringify([...page, block]).length > MESSAGE_TEXT_TOTAL_SOFT_MAX)) pages.push([block]);
    else page.push(block);
  }
  return pages.map((blocks, i) =>
    capMessage({
      text: i === 0 ? `Governance review for ${label}: ${plural(agents.length, 'agent')}` : `Governance review for ${label} (part ${i + 1} of ${pages.length})`,
      blocks,
    }),
  );
}
