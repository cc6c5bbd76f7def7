import { MODE_LABELS, agentMode, looserMode, resolveMode, type ModeSource } from '../domain/modes.js';
import { matches } from '../domain/policy/evaluate.js';
import { describeThresholds, formatRate, successesOf } from '../domain/promotion.js';
import { safeCode, safeText } from '../domain/slack-text.js';
import { proposalsFor, storedModeRows } from '../db/queries/agent-modes.js';
import { agentRecord, type RecordBreakdown } from '../db/queries/agent-record.js';
import type { FlowPorts } from './ports.js';
import { count, percent, plural } from '../domain/format.js';

const source = (m: ModeSource) => (m.source === 'agent_modes' ? 'set by a promotion or demotion' : `from ${safeCode(m.source, 202)}`);
const counts = (r: RecordBreakdown) =>
  `${count(successesOf(r))} successful of ${plural(r.actions, 'action')}, ${plural(r.errors, 'error')} (${formatRate(r)}): ` +
  `${count(r.denials)} denied · ${count(r.reversals)} reversed in review · ${count(r.incorrect)} incorrect in batch review · ${count(r.failures)} failed`;

/**
 * `/countersign agent <id>`: the agent's mode and where it came from, its
 * record with every source of error, per action type, the promotion bars and
 * how far it is from the next one.
 */
export async function agentReport(ports: Pick<FlowPorts, 'db' | 'config'>, agentId: string): Promise<string> {
  const { policy } = ports.config.current().config;
  const index = policy?.agents.findIndex((a) => a.id === agentId) ?? -1;
  const rows = await storedModeRows(ports.db, agentId);
  if (!policy || (index < 0 && rows.length === 0)) return `No agent ${safeCode(agentId, 202)} in the policy.`;
  const cfg = index >= 0 ? policy.agents[index] : undefined;
  const stored = Object.fromEntries(rows.map((r) => [r.scope, r.mode]));
  const own = agentMode(index, cfg, stored);
  const ownRow = rows.find((r) => r.scope === '*');
  const since = ownRow?.evidenceSince ?? null;
  const rec = await agentRecord(ports.db, agentId, { since });
  const lines = [
    `*Agent ${safeCode(agentId, 202)}*: ${MODE_LABELS[own.mode]} (\`${own.mode}\`, ${source(own)}${ownRow ? `, since ${ownRow.since.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''})`,
    `*Record* ${since ? `since the last demotion (${since.toISOString().slice(0, 10)})` : 'since its first action'}: ${counts(rec.total)}`,
  ];
  if (rec.byAction.length > 0) {
    lines.push('*Per action*');
    for (const a of rec.byAction.slice(0, 20)) {
      const m = resolveMode(index, cfg, stored, a.actionType, matches);
      lines.push(`• ${safeCode(a.actionType, 102)} · ${MODE_LABELS[m.mode]}${m.scope === '*' ? '' : ` (${source(m)})`} · ${plural(a.actions, 'action')}, ${plural(a.errors, 'error')} (${formatRate(a)})`);
    }
  }
  for (const r of rows.filter((r) => r.scope !== '*' && !rec.byAction.some((a) => a.actionType === r.scope))) {
    lines.push(`• ${safeCode(r.scope, 102)} · ${MODE_LABELS[r.mode]} (${safeText(r.reason, 200)}) · no actions yet`);
  }
  lines.push('*Promotion bars* (Countersign proposes, a person accepts; it tightens on its own)');
  for (const d of describeThresholds(policy.promotion)) lines.push(`• ${d}`);
  const next = looserMode(own.mode);
  if (next && next !== 'pre_action') {
    const bar = policy.promotion[next];
    lines.push(
      `*Next*: ${MODE_LABELS[next]} needs ${count(bar.minSuccesses)} successful actions (has ${count(successesOf(rec.total))}) with an error rate under ${percent(bar.maxErrorRate)} (has ${formatRate(rec.total)}).`,
    );
  }
  const pending = (await proposalsFor(ports.db, agentId, '*')).find((p) => p.status === 'pending');
  if (pending) lines.push(`:hourglass: A promotion to ${MODE_LABELS[pending.toMode]} awaits an answer.`);
  return lines.join('\n');
}
