/**
 * Characters of blocks JSON of the approval card for each sandbox sample
 * that waits for a person, pending and once approved: the size the issue's
 * "cards run 5,900 characters" measured. `npx tsx scripts/card-sizes.ts`.
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/config/file.js';
import { escalationSchema } from '../src/domain/escalation.js';
import { actionSpendUsd, evaluatePolicy } from '../src/domain/policy/evaluate.js';
import { escalationOf, sampleCases } from '../src/sandbox/samples.js';
import { escalationCard } from '../src/slack/cards/escalation-card.js';
import type { CardState } from '../src/slack/cards/view-model.js';

const { config } = parseConfig(readFileSync(new URL('../examples/countersign.yml', import.meta.url), 'utf8'), 'examples/countersign.yml');
const at = new Date('2026-01-05T10:40:00Z');
const rows: Array<[string, number, number]> = [];
for (const { label, case: c } of sampleCases()) {
  const e = escalationSchema.parse(escalationOf(c));
  const d = evaluatePolicy(config.policy, { agentId: e.agent.id, actionType: e.action.type, params: e.action.params, issueType: e.issueType, confidence: e.confidence, conflictingInformation: e.conflictingInformation }, { stepFailures: label.includes('3 failed') ? 3 : 0 });
  if (d.outcome !== 'pending') continue;
  const whyHuman = [...(d.tier === 'restricted' ? [`${d.reason} (rule \`${d.rule}\`)`] : []), ...d.triggers.map((t) => t.message)];
  const amountUsd = actionSpendUsd(config.policy, e.agent.id, e.action.type, e.action.params);
  const state = {
    escalation: e, digest: 'a'.repeat(64), route: 'refunds', deadline: new Date(at.getTime() + 3_600_000), status: 'pending', decidedBy: null, decidedAt: null,
    reason: null, failSafe: false, whyHuman, ...(amountUsd > 0 ? { amountUsd } : {}), highStakes: d.triggers.some((t) => t.kind === 'high_stakes'),
  } as CardState;
  const size = (s: CardState) => JSON.stringify(escalationCard(s).blocks).length;
  rows.push([label.split(' (')[0]!, size(state), size({ ...state, status: 'approved', decidedBy: 'U0APPROVER1', decidedAt: at })]);
}
console.log('| sample | pending | approved |\n| --- | ---: | ---: |');
for (const [l, p, a] of rows) console.log(`| ${l} | ${p.toLocaleString('en-US')} | ${a.toLocaleString('en-US')} |`);
