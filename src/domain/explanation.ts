/**
 * The right to explanation: one escalation's audit record laid out as the
 * chain a person can follow, input → reasoning → the policy rule and its
 * triggers → who was paged → who decided, and why → outcome. Built from the
 * stored rows alone (already redacted at intake), as plain text lines; the
 * CLI prints them and the Why? modal escapes them for Slack.
 */

import { plural, usd, usdMicros } from './format.js';
import { diffParams } from './edit.js';

/** The stored escalation, as far as the explanation needs it (structurally an escalations row). */
export interface ExplainEscalation {
  id: string;
  status: string;
  executionId: string | null;
  agentId: string | null;
  agentOwner: string | null;
  actionType: string | null;
  route: string | null;
  channel: string | null;
  request: unknown;
  deadline: Date | null;
  decidedBy: string | null;
  /** `decidedBy` decided as the out-of-office delegate of this approver. */
  decidedOnBehalfOf?: string | null;
  decidedAt: Date | null;
  decisionReason: string | null;
  failSafe: boolean;
  policyVersion: string | null;
  tier: string | null;
  policyRule: string | null;
  policyReason: string | null;
  triggers: Array<{ kind: string; message: string }> | null;
  decisionCode: string | null;
  reviewState: string;
  reviewedBy: string | null;
  reviewedAt: Date | null;
  reviewNote: string | null;
  createdAt: Date;
  /** Quorum (src/domain/quorum.ts): absent or 1 for a single approval. */
  approvalsRequired?: number;
  approvalGroups?: string[] | null;
  /** Approved with edits: the params as approved, and the digest the approval binds. */
  approvedParams?: Record<string, unknown> | null;
  approvedDigest?: string | null;
}

export interface ExplainEvent {
  id: number;
  type: string;
  actor: string;
  at: Date;
  data: Record<string, unknown>;
}

export interface ExplainOutcome {
  id: string;
  actionType: string;
  step: string;
  success: boolean;
  output: string | null;
  error: string | null;
  costTokens: number;
  costUsdMicros: number;
  at: Date;
}

export interface ExplanationSection {
  /** One of the six headings, always in this order. */
  heading: 'Input' | 'Reasoning' | 'Policy rule and triggers' | 'Who was paged' | 'Who decided, and why' | 'Outcome';
  lines: string[];
}

export interface Explanation {
  escalationId: string;
  executionId: string | null;
  /** The card's headline, or "<agent> wanted to run <action>". */
  title: string;
  status: string;
  sections: ExplanationSection[];
}

/** The request as stored (redacted); every field optional, since old or rejected rows may lack some. */
interface StoredRequest {
  agent?: { id?: string; name?: string; owner?: string; model?: string; modelVersion?: string; promptVersion?: string; toolVersions?: Record<string, string> };
  action?: { type?: string; params?: Record<string, unknown>; reversible?: boolean; summary?: string };
  issueType?: string;
  urgency?: string;
  trigger?: { kind?: string; source?: string; input?: string };
  reasoning?: string;
  confidence?: number;
  handoff?: { attempted?: string; failed?: string; gathered?: string; recommendation?: string };
  cost?: { tokens?: number; usd?: number };
}

const iso = (d: Date | string | null | undefined): string => (d ? new Date(d).toISOString().replace('.000Z', 'Z') : '?');
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const STATUS_WORD: Record<string, string> = { approved: 'Approved', denied: 'Denied' };

export function buildExplanation(row: ExplainEscalation, events: readonly ExplainEvent[], outcomes: readonly ExplainOutcome[]): Explanation {
  const req = (row.request ?? {}) as StoredRequest;
  const agentName = req.agent?.name ?? row.agentId ?? 'the agent';
  const actionType = req.action?.type ?? row.actionType ?? 'an action';
  const of = (type: string) => events.filter((e) => e.type === type);

  const input: string[] = [`Received ${iso(row.createdAt)} · escalation ${row.id} · execution ${row.executionId ?? '?'}`];
  if (req.agent) {
    const tools = Object.entries(req.agent.toolVersions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
    input.push(`Agent: ${agentName} (${req.agent.id ?? row.agentId}), owner ${req.agent.owner ?? row.agentOwner ?? '?'}`);
    input.push(`Model: ${req.agent.model ?? '?'} ${req.agent.modelVersion ?? ''}`.trimEnd() + ` · prompt ${req.agent.promptVersion ?? '?'}${tools ? ` · tools ${tools}` : ''}`);
  }
  if (req.trigger) input.push(`Trigger: ${req.trigger.kind ?? '?'}${req.trigger.source ? ` (${req.trigger.source})` : ''}: ${req.trigger.input ?? ''}`);
  input.push(`Action: ${actionType}${req.action?.reversible === undefined ? '' : req.action.reversible ? ' (reversible)' : ' (irreversible)'}${req.action?.summary ? `: ${req.action.summary}` : ''}`);
  if (req.action?.params) input.push(`Params: ${JSON.stringify(req.action.params)}`);
  if (req.cost) input.push(`Cost so far: ${usd(req.cost.usd ?? 0)}, ${plural(req.cost.tokens ?? 0, 'token')}`);

  const reasoning: string[] = [];
  if (req.reasoning) reasoning.push(req.reasoning);
  if (req.confidence !== undefined) reasoning.push(`Confidence: ${req.confidence.toFixed(2)}`);
  if (req.handoff) {
    const h = req.handoff;
    for (const [k, v] of [['Attempted', h.attempted], ['Failed', h.failed], ['Gathered', h.gathered], ['Recommended', h.recommendation]] as const) {
      if (v) reasoning.push(`${k}: ${v}`);
    }
  }
  if (reasoning.length === 0) reasoning.push('No reasoning was recorded.');

  const policy: string[] = [];
  if (row.tier || row.policyRule) policy.push(`Tier ${row.tier ?? '?'} by rule ${row.policyRule ?? '(none)'}${row.policyReason ? `: ${row.policyReason}` : ''}`);
  for (const t of row.triggers ?? []) policy.push(`Trigger ${t.kind}: ${t.message}`);
  if ((row.triggers ?? []).length === 0 && row.tier) policy.push('No escalation trigger fired.');
  const quorumRule = (of('received')[0]?.data['policy'] as { quorum?: { rule?: string } } | undefined)?.quorum?.rule;
  if ((row.approvalsRequired ?? 1) > 1 || (row.approvalGroups ?? []).length > 0) {
    const groups = row.approvalGroups?.length ? `, each from a different one of the user groups ${row.approvalGroups.join(', ')}` : '';
    policy.push(`Quorum: ${plural(row.approvalsRequired ?? 1, 'approval')} from different approvers${groups}, never the agent's owner${quorumRule ? ` (rule ${quorumRule})` : ''}`);
  }
  policy.push(`Policy version ${row.policyVersion ?? '?'} · route ${row.route ?? '?'} → channel ${row.channel ?? '?'}${req.issueType ? ` (issue type ${req.issueType}, urgency ${req.urgency ?? 'normal'})` : ''}`);

  const paged: string[] = [];
  for (const e of events) {
    if (e.type === 'paged') {
      const who = str(e.data['user']) ? `paged ${e.data['user']}` : 'paged nobody in person (fell back to the channel and its user group)';
      paged.push(`${iso(e.at)}: ${who}${str(e.data['reason']) ? `: ${e.data['reason']}` : ''}`);
    } else if (e.type === 'chain_step') {
      const reached = Array.isArray(e.data['reached']) ? (e.data['reached'] as Array<{ via?: string; users?: string[]; channel?: string }>) : [];
      const whom = reached.map((r) => [r.via, ...(r.users ?? [])].filter(Boolean).join(' ')).join('; ');
      paged.push(`${iso(e.at)}: escalation step ${Number(e.data['step'] ?? 0) + 1}${whom ? ` reached ${whom}` : ''}`);
    } else if (e.type === 'oncall_dm') {
      const cause = e.data['cause'] === 'snooze' ? ` (snooze by ${str(e.data['snoozedBy']) ?? '?'} over)` : e.data['cause'] === 'reassigned' ? ' (reassigned to them)' : '';
      const covering = str(e.data['onBehalfOf']) ? `, standing in for ${e.data['onBehalfOf']} (out of office)` : '';
      paged.push(`${iso(e.at)}: sent ${str(e.data['user']) ?? 'the on-call person'} a DM${cause}${covering}`);
    } else if (e.type === 'snoozed') {
      const behalf = str(e.data['onBehalfOf']) ? ` (delegate of ${e.data['onBehalfOf']})` : '';
      paged.push(`${iso(e.at)}: ${e.actor}${behalf} snoozed it for ${Number(e.data['minutes'] ?? 0)} min: a DM at ${iso(str(e.data['until']))}; the deadline stayed ${iso(str(e.data['deadline']) ?? row.deadline)}`);
    } else if (e.type === 'reassigned') {
      const behalf = str(e.data['onBehalfOf']) ? ` (delegate of ${e.data['onBehalfOf']})` : '';
      const from = str(e.data['from']) ? ` from ${e.data['from']}` : '';
      paged.push(`${iso(e.at)}: ${e.actor}${behalf} reassigned it${from} to ${str(e.data['to']) ?? '?'}${str(e.data['note']) ? `: ${e.data['note']}` : ''}`);
    } else if (e.type === 'card_posted') {
      const a = (e.data['approvers'] ?? {}) as { users?: string[]; usergroup?: string };
      const whom = [...(a.users ?? []), ...(a.usergroup ? [`user group ${a.usergroup}`] : [])].join(', ');
      paged.push(`${iso(e.at)}: card posted to ${str(e.data['channel']) ?? row.channel ?? 'the route channel'} for its approvers${whom ? ` (${whom})` : ''}`);
    } else if (e.type === 'card_digested') {
      paged.push(`${iso(e.at)}: a burst into ${str(e.data['channel']) ?? row.channel ?? 'the route channel'}: shown in the channel's digest instead of a card of its own, decided from App Home`);
    }
  }
  const standingId = row.decidedBy?.startsWith('standing:') ? row.decidedBy.slice('standing:'.length) : undefined;
  if (paged.length === 0) {
    paged.push(row.decidedBy === 'policy' ? 'Nobody: policy decided without a person.' : standingId ? 'Nobody: a standing approval covered it.' : 'Nobody was paged.');
  }

  const decided: string[] = [];
  const made = of('decision_made').at(-1);
  if (standingId) {
    decided.push(...standingUseLines(row, standingId, events));
  } else if (row.decidedBy === 'policy') {
    decided.push(`Decided by policy at ${iso(row.decidedAt)} (${row.decisionCode ?? row.status}): ${row.decisionReason ?? row.policyReason ?? ''}`.trimEnd());
  } else if (row.status === 'approved' && Array.isArray(made?.data['approvers']) && (made.data['approvers'] as unknown[]).length > 0) {
    // A quorum: every approver is named, the last one completed it.
    const approvers = (made.data['approvers'] as unknown[]).map(String);
    decided.push(`Approved by ${approvers.join(' and ')} (${approvers.length} of ${String(made.data['approvalsRequired'] ?? approvers.length)} approvals) at ${iso(row.decidedAt)} under policy ${str(made.data['policyVersion']) ?? row.policyVersion ?? '?'}`);
    decided.push(row.decisionReason ? `Reason: ${row.decisionReason}` : 'No reason given.');
  } else if (row.status === 'approved' || row.status === 'denied') {
    const behalf = row.decidedOnBehalfOf ?? str(made?.data['onBehalfOf']);
    const by = behalf ? `${row.decidedBy} on behalf of ${behalf} (their out-of-office delegate)` : row.decidedBy;
    decided.push(`${STATUS_WORD[row.status]} by ${by} at ${iso(row.decidedAt)} under policy ${str(made?.data['policyVersion']) ?? row.policyVersion ?? '?'}`);
    decided.push(row.decisionReason ? `Reason: ${row.decisionReason}` : 'No reason given.');
    decided.push(...editedLines(row, made));
  } else if (row.status === 'expired') {
    const expired = of('expired').at(-1);
    decided.push(`Expired at ${iso(row.decidedAt)}: nobody decided before the deadline (${iso(row.deadline)}), so the fail-safe outcome applied (denied), decided by ${expired?.actor ?? 'system'} under policy ${str(expired?.data['policyVersion']) ?? row.policyVersion ?? '?'}.`);
    if (row.decisionReason) decided.push(`Reason: ${row.decisionReason}`);
  } else if (row.status === 'rejected') {
    decided.push(`Rejected: the request was invalid${row.decisionReason ? ` (${row.decisionReason})` : ''}.`);
  } else {
    decided.push(`Not decided yet; the deadline is ${iso(row.deadline)}.`);
  }
  for (const e of of('standing_granted')) decided.push(grantLine(e));
  for (const e of of('standing_revoked')) decided.push(`${iso(e.at)}: standing approval ${str(e.data['standingId']) ?? '?'} revoked by ${e.actor} (used ${Number(e.data['usedCount'] ?? 0)} of ${Number(e.data['maxCount'] ?? 0)})`);
  for (const e of of('standing_refused')) decided.push(`${iso(e.at)}: ${e.actor} tried to ${e.data['action'] === 'revoke' ? 'revoke its standing approval' : 'grant a standing approval'}: refused (${str(e.data['reason']) ?? 'not allowed'})`);
  // Approvals of a quorum and refused attempts, in the order they happened.
  for (const e of events) {
    if (e.type === 'approval_recorded') {
      decided.push(`${iso(e.at)}: ${e.actor} approved (${String(e.data['approvals'] ?? '?')} of ${String(e.data['required'] ?? '?')})${str(e.data['countedFor']) ? ` for user group ${e.data['countedFor']}` : ''}`);
    } else if (e.type === 'decision_refused') {
      decided.push(`${iso(e.at)}: ${e.actor} tried to ${str(e.data['kind']) ?? 'decide'}: refused (${str(e.data['reason']) ?? 'not allowed'})`);
    }
  }
  if (row.reviewState === 'ok' || row.reviewState === 'wrong') {
    decided.push(`Reviewed after it ran: ${row.reviewState === 'ok' ? 'right' : 'wrong'} by ${row.reviewedBy} at ${iso(row.reviewedAt)}${row.reviewNote ? `: ${row.reviewNote}` : ''}`);
  } else if (row.reviewState === 'pending') {
    decided.push('Ran under supervision; the review is still pending.');
  }

  const outcome: string[] = [];
  const proceed = row.status === 'approved' || row.status === 'allowed';
  if (row.status !== 'pending') outcome.push(`The agent was told to ${proceed ? 'proceed' : 'not proceed'}${row.reviewState === 'wrong' ? ', then to compensate' : ''}.`);
  const told = of('agent_notified')[0];
  if (told) outcome.push(`${iso(told.at)}: decision delivered to the agent`);
  for (const o of outcomes) {
    const parts = [`${iso(o.at)}: ${o.step} ${o.success ? 'succeeded' : 'failed'}`];
    if (o.output) parts.push(`output: ${o.output}`);
    if (o.error) parts.push(`error: ${o.error}`);
    parts.push(`cost ${usdMicros(o.costUsdMicros)}, ${plural(o.costTokens, 'token')}`);
    outcome.push(parts.join(' · '));
  }
  if (outcomes.length === 0) outcome.push(row.status === 'pending' ? 'Nothing has run: it waits for a decision.' : 'The agent has not reported an outcome.');

  return {
    escalationId: row.id,
    executionId: row.executionId,
    title: req.action?.summary ?? `${agentName} wanted to run ${actionType}`,
    status: row.status,
    sections: [
      { heading: 'Input', lines: input },
      { heading: 'Reasoning', lines: reasoning },
      { heading: 'Policy rule and triggers', lines: policy },
      { heading: 'Who was paged', lines: paged },
      { heading: 'Who decided, and why', lines: decided },
      { heading: 'Outcome', lines: outcome },
    ],
  };
}

/** Approved with edits: both versions of each changed param, and the digests of each. */
function editedLines(row: ExplainEscalation, made: ExplainEvent | undefined): string[] {
  const recorded = (made?.data['edited'] ?? undefined) as { from?: Record<string, unknown>; to?: Record<string, unknown>; approvedDigest?: string } | undefined;
  const requested = ((row.request ?? {}) as StoredRequest).action?.params ?? {};
  const to = recorded?.to ?? (row.approvedParams ? Object.fromEntries(diffParams(requested, row.approvedParams).map((c) => [c.name, c.to])) : undefined);
  if (!to || Object.keys(to).length === 0) return [];
  const from = recorded?.from ?? requested;
  const changes = Object.entries(to).map(([k, v]) => `${k}: ${JSON.stringify(from[k])} → ${JSON.stringify(v)}`);
  const digest = str(made?.data['digest']);
  return [
    `Edited before approving: ${changes.join('; ')}`,
    `Request digest ${digest ?? '?'} (as asked) · approved digest ${recorded?.approvedDigest ?? row.approvedDigest ?? '?'} (as edited)`,
  ];
}

/** A later request a standing approval covered: who granted it, its scope, and which use this was. */
function standingUseLines(row: ExplainEscalation, id: string, events: readonly ExplainEvent[]): string[] {
  const received = events.find((e) => e.type === 'received');
  const s = ((received?.data['policy'] as Record<string, unknown> | undefined)?.['standing'] ?? {}) as Record<string, unknown>;
  const used = events.find((e) => e.type === 'standing_used');
  const grantor = str(s['grantedBy']) ?? str(used?.data['grantedBy']) ?? '?';
  const from = str(used?.data['createdFrom']);
  const spend = typeof s['maxSpendMicros'] === 'number' ? `; spent ${usdMicros(Number(s['spentMicros'] ?? 0))} of ${usdMicros(s['maxSpendMicros'])}` : '';
  return [
    `Approved at ${iso(row.decidedAt)} without a person, under standing approval ${id} granted by ${grantor}${from ? ` when approving escalation ${from}` : ''}`,
    `Scope: ${row.actionType ?? '?'} of ${row.agentId ?? '?'} on route ${row.route ?? '?'}, ${str(s['scope']) ?? 'params within its bounds'}; use ${Number(s['useNumber'] ?? 0)} of ${Number(s['maxCount'] ?? 0)}${spend}; valid until ${str(s['expiresAt']) ?? '?'}`,
  ];
}

/** The approval that also granted a standing approval. */
function grantLine(e: ExplainEvent): string {
  const d = e.data;
  const spend = typeof d['maxSpendUsd'] === 'number' ? `, up to ${usd(d['maxSpendUsd'])}` : '';
  return `${e.actor} also allowed similar requests: standing approval ${str(d['standingId']) ?? '?'} for ${str(d['scope']) ?? 'params within bounds'}, up to ${plural(Number(d['maxCount'] ?? 0), 'request')}${spend}, until ${str(d['expiresAt']) ?? '?'}`;
}

/** Plain text for a terminal: a title, then each section as an indented list. */
export function explanationText(x: Explanation): string {
  const out = [`${x.title} [${x.status}]`];
  x.sections.forEach((s, i) => {
    out.push('', `${i + 1}. ${s.heading}`);
    for (const line of s.lines) out.push(`   ${line.replace(/\n/g, '\n   ')}`);
  });
  return `${out.join('\n')}\n`;
}
