import { count, percent, plural, usd } from '../../domain/format.js';
import { MODE_LABELS, type Mode } from '../../domain/modes.js';
import { describeCondition } from '../../domain/policy/conditions.js';
import type { AgentPolicy, Policy } from '../../domain/policy/schema.js';
import { describeThresholds, errorRateText, type RecordCounts } from '../../domain/promotion.js';
import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import { MESSAGE_BLOCKS_MAX, MESSAGE_TEXT_TOTAL_SOFT_MAX, SECTION_TEXT_MAX, safeCode, safeText, truncate } from '../../domain/slack-text.js';
import type { SlackMessage } from '../../flow/ports.js';
import { capMessage } from './limits.js';

/** An agent's mode as in force (a stored promotion wins over the config) and its record since. */
export interface AgentInForce extends RecordCounts {
  agentId: string;
  mode: Mode;
  /** `agent_modes`, `policy.agents[i].mode` or the default. */
  source: string;
}

export interface PolicySummary {
  policy: Policy | undefined;
  /** The config version, as `/countersign policy {…}` prints it. */
  version: string;
  agents: AgentInForce[];
  /** Only this agent's section (`/countersign policy <agent id>`). */
  only?: string;
}

const section = (text: string): SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text: truncate(text, SECTION_TEXT_MAX) } });
const context = (text: string): ContextBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(text, SECTION_TEXT_MAX) }] });
/** Config text is written by people, but agent ids may be hostile (an id is whatever the agent sends): escaped like agent text. */
const code = (s: string, max = 100) => safeCode(s, max + 2);
const threshold = (x: number) => x.toFixed(2);
/** The "did not fit" line's length cap. */
const REST_MAX = 1000;
const when = (c: Parameters<typeof describeCondition>[0]) => safeText(describeCondition(c), 300);

function triggersText(p: Policy): string {
  const own = p.agents.filter((a) => a.confidenceThreshold !== undefined).map((a) => `${code(a.id)} ${threshold(a.confidenceThreshold!)}`);
  const highStakes = p.agents.flatMap((a) => a.actions.filter((x) => x.highStakes).map((x) => `${code(a.id)} ${code(x.action)} when ${when(x.highStakes!)}`));
  return [
    '*Triggers*: any one sends even an autonomous action to a person',
    `• *Low confidence*: below ${threshold(p.confidenceThreshold)}${own.length ? ` (per agent: ${own.join(', ')})` : ''}`,
    `• *High stakes*: ${highStakes.length ? highStakes.join('; ') : 'none configured'}`,
    `• *Repeated failure*: the same step failed ${plural(p.repeatedFailureThreshold, 'time')} without a success`,
    '• *Out of domain*, *conflicting information*, and a *task past its per-task budget*',
    `Supervised actions run at once and are reviewed within ${count(p.supervisedReviewMinutes)} min.`,
  ].join('\n');
}

function budgetsText(p: Policy): string {
  const org = p.organization;
  const month = org.monthlyUsd !== undefined ? `${usd(org.monthlyUsd)} a month` : 'no monthly cap';
  const projection = org.projectedMonthlyUsd !== undefined ? `; alert at 120% of the ${usd(org.projectedMonthlyUsd)} projection` : '';
  return [
    `*Budgets* (days and weeks in ${safeText(p.timezone, 60)}; alerts at ${p.alertThresholds.map(percent).join(', ')} of a cap)`,
    `• *Organisation*: ${month}${projection}`,
    '• *Per agent*: per task (past it, that task waits for a person), per day and per week (past either, the agent is paused): below, with each agent',
  ].join('\n');
}

function modesText(p: Policy): string {
  return [
    '*Review modes*: every agent starts in pre-action review; Countersign proposes a promotion when the record meets the bar, and a person accepts',
    ...describeThresholds(p.promotion).map((d) => `• ${d}`),
    `• Post-action audit reviews ${percent(p.promotion.auditSampleRate)} of autonomous actions after they run`,
  ].join('\n');
}

/** ", 2 approvals (one each from S…, S…)": a quorum; nothing for the ordinary single approval. */
function quorumText(x: { approvals?: number; distinctGroups?: string[] }): string {
  if (x.approvals === undefined && x.distinctGroups === undefined) return '';
  const groups = x.distinctGroups?.length ? ` (each from a different group of ${x.distinctGroups.map((g) => code(g, 30)).join(', ')})` : '';
  return `, ${plural(x.approvals ?? 1, 'approval')}${groups}`;
}

function agentText(a: AgentPolicy, inForce: AgentInForce | undefined): string {
  const mode = inForce
    ? `${MODE_LABELS[inForce.mode]} (${inForce.source === 'agent_modes' ? 'set by a promotion or demotion' : `from \`${inForce.source}\``}) · record ${inForce.actions ? errorRateText(inForce) : 'no actions yet'}`
    : MODE_LABELS[a.mode ?? 'pre_action'];
  const b = a.budgets;
  const caps = [
    `per task ${b.perTaskUsd !== undefined ? usd(b.perTaskUsd) : 'no cap'}`,
    `per day ${b.dailyUsd !== undefined ? usd(b.dailyUsd) : 'no cap'}`,
    `per week ${b.weeklyUsd !== undefined ? usd(b.weeklyUsd) : 'no cap'}`,
  ].join(' · ');
  const lines = [`*${code(a.id, 200)}* · ${mode}`, `• *Budgets*: ${caps}`];
  if (a.confidenceThreshold !== undefined) lines.push(`• *Confidence threshold*: ${threshold(a.confidenceThreshold)}`);
  if (a.domain) {
    const issues = a.domain.issueTypes.map((t) => code(t, 60)).join(', ') || 'any';
    const actions = a.domain.actionTypes.map((t) => code(t, 60)).join(', ') || 'any';
    lines.push(`• *Domain*: issue types ${issues}; actions ${actions}`);
  }
  for (const x of a.actions) {
    // A rule with `approvals` alone is restricted (evaluate.ts).
    const rules = x.rules.map((r) => `${r.deny ? 'denied' : `${r.tier ?? 'restricted'}${quorumText(r)}`} when ${when(r.when)} (${safeText(r.reason, 200)})`);
    const stakes = x.highStakes ? [`high stakes when ${when(x.highStakes)}`] : [];
    lines.push(`• ${code(x.action)}: *${x.tier}*${quorumText(x)}${[...rules, ...stakes].map((r) => `; ${r}`).join('')}`);
  }
  for (const d of a.deny) lines.push(`• ${code(d.action)}: *denied*${d.when ? ` when ${when(d.when)}` : ''} (${safeText(d.reason, 200)})`);
  for (const [pattern, m] of Object.entries(a.modes ?? {})) lines.push(`• ${code(pattern)} in ${MODE_LABELS[m]} (tightens the agent's mode)`);
  lines.push('• Anything else: *denied*');
  return lines.join('\n');
}

/**
 * The policy in force, for people: trigger thresholds, budgets, review modes
 * and promotion bars, then each agent's tiers, rules and mode. Agents that
 * do not fit one message (50 blocks, ~12k characters) are named at the end;
 * `/countersign policy <agent id>` shows one.
 */
export function policySummaryMessage(s: PolicySummary): SlackMessage {
  const p = s.policy;
  if (!p) {
    const none = 'No policy is configured, so every action needs approval. Add `policy:` to the config file.';
    return capMessage({ text: none, blocks: [section(none)] });
  }
  const agents = s.only ? p.agents.filter((a) => a.id === s.only) : p.agents;
  const head: KnownBlock[] = s.only
    ? [section(`*Policy for ${code(s.only, 200)}* (version \`${s.version}\`)`)]
    : [
        { type: 'header', text: { type: 'plain_text', text: 'Policy in force' } },
        section(triggersText(p)),
        section(budgetsText(p)),
        section(modesText(p)),
        { type: 'divider' },
      ];
  const foot = context(`Version \`${s.version}\` · anything not listed is denied · try an action: \`/countersign policy {"agent":{"id":"…"},"action":{"type":"…","params":{…}}}\``);
  const blocks = [...head];
  let size = JSON.stringify([...head, foot]).length;
  let shown = 0;
  for (const a of agents) {
    const block = section(agentText(a, s.agents.find((x) => x.agentId === a.id)));
    const more = JSON.stringify(block).length + 1;
    // Room kept for the footer and the "did not fit" line (at most REST_MAX characters).
    if (blocks.length + 3 > MESSAGE_BLOCKS_MAX || size + more > MESSAGE_TEXT_TOTAL_SOFT_MAX - REST_MAX - 100) break;
    blocks.push(block);
    size += more;
    shown++;
  }
  const rest = agents.slice(shown);
  if (rest.length > 0) {
    blocks.push(context(`${plural(rest.length, 'more agent')} did not fit: ${truncate(rest.map((a) => code(a.id, 60)).join(', '), REST_MAX - 100)}. \`/countersign policy <agent id>\` shows one.`));
  }
  blocks.push(foot);
  const text = s.only ? `Policy for ${safeText(s.only, 200)}` : `Policy in force (version ${s.version}): ${plural(agents.length, 'agent')}`;
  return capMessage({ text, blocks });
}
