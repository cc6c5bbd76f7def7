import { redactorOf } from '../domain/audit-config.js';
import type { CountersignConfig } from '../domain/config.js';
import { actionSpendUsd } from '../domain/policy/evaluate.js';
import type { Escalation } from '../domain/escalation.js';
import type { Status } from '../domain/decision.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import type { CardState } from '../slack/cards/view-model.js';
import { actionPolicyOf, diffParams, editableFields } from '../domain/edit.js';
import { grantPermission } from './standing-grant.js';
import { needsQuorum, quorumOf, tally } from '../domain/quorum.js';

/**
 * What the card shows for a stored row: the request with PII masked (the config's
 * `audit.redact`, or the built-in patterns without a config), and its state; the
 * review is due `policy.supervisedReviewMinutes` (default 60) after the request.
 * `storedMasked`: the row was just stored by intake, whose request is already masked by
 * the config's redactor (the built-in patterns and fields, and more; masking twice equals
 * masking once), so masking it again would change nothing. Rows read back later (which
 * may predate redaction at intake) are always masked again.
 */
export function cardStateOf(row: EscalationRow, config?: CountersignConfig, opts: { storedMasked?: boolean } = {}): CardState {
  const redactor = redactorOf(config?.audit);
  const reviewMinutes = config?.policy?.supervisedReviewMinutes ?? 60;
  const escalation = opts.storedMasked ? (row.request as Escalation) : redactor.value(row.request as Escalation);
  // From the request as stored (masking leaves numbers alone), under the policy in force now.
  // Approved with edits: the approved params (stored masked) are what runs, and what the stakes line counts.
  const approvedParams = row.approvedParams ? redactor.value(row.approvedParams) : undefined;
  const amountUsd = actionSpendUsd(config?.policy, escalation.agent.id, escalation.action.type, approvedParams ?? escalation.action.params);
  const spendParam = actionPolicyOf(config?.policy, escalation.agent.id, escalation.action.type)?.spendParam;
  return {
    escalation,
    digest: row.digest ?? '',
    route: row.route ?? 'default',
    deadline: row.deadline ?? row.createdAt,
    status: row.status as Status,
    decidedBy: row.decidedBy,
    onBehalfOf: row.decidedOnBehalfOf,
    snoozeMinutes: config?.handoffs.snoozeMinutes ?? 30,
    decidedAt: row.decidedAt,
    reason: row.decisionReason ? redactor.text(row.decisionReason) : null,
    failSafe: row.failSafe,
    whyHuman: whyHuman(row, escalation.action.type),
    ...(amountUsd > 0 ? { amountUsd } : {}),
    highStakes: (row.triggers ?? []).some((t) => t.kind === 'high_stakes'),
    ...(row.status === 'pending' && config && !needsQuorum(row) && editableFields(config.policy, escalation.agent.id, escalation.action.type, escalation.action.params).length > 0 ? { editable: true } : {}),
    ...(approvedParams ? { edited: diffParams(escalation.action.params, approvedParams).map((c) => ({ ...c, usd: c.name === spendParam })) } : {}),
    // Under the policy in force now: a reload that forbids it takes the button off the next update.
    ...(row.status === 'pending' && config && grantPermission(config, row).allowed ? { standingOffered: true } : {}),
    ...(needsQuorum(row) ? { quorum: quorumState(row) } : {}),
    review:
      row.reviewState === 'none'
        ? undefined
        : {
            state: row.reviewState as 'pending' | 'ok' | 'wrong',
            by: row.reviewedBy,
            at: row.reviewedAt,
            note: row.reviewNote ? redactor.text(row.reviewNote) : null,
            due: new Date(row.createdAt.getTime() + reviewMinutes * 60_000),
          },
  };
}

/** The policy's reasons, in the words the card shows ("confidence 0.62 is below 0.70"): plain text, escaped whole by the card. */
function whyHuman(row: EscalationRow, actionType: string): string[] {
  const lines: string[] = [];
  if (row.tier === 'restricted' && row.policyReason) lines.push(`${row.policyReason} (rule ${row.policyRule})`);
  if (row.tier === 'supervised' && row.status === 'allowed') {
    // Drawn into a post-action audit sample: the mode's reason says so (src/domain/modes.ts).
    lines.push(row.mode === 'post_action' && row.policyReason?.startsWith('post-action audit') ? row.policyReason : `${actionType} is supervised: it ran, and a human reviews it afterwards`);
  }
  for (const t of row.triggers ?? []) lines.push(t.message);
  if (lines.length === 0) lines.push(row.policyReason ?? `${actionType} needs approval on route ${row.route}`);
  return lines;
}

/** A quorum's progress as the card shows it, from the votes stored on the row. */
function quorumState(row: EscalationRow): NonNullable<CardState['quorum']> {
  const rule = quorumOf(row);
  const t = tally(rule, row.approvals, row.agentOwner);
  return { required: t.required, counted: t.counted, groups: [...rule.groups], missingGroups: t.missingGroups };
}

/**
 * How soon (ms) an update for a card whose post is not recorded yet looks
 * again (a vote's, a batch-review verdict's): people click the card Slack
 * shows, and its ts is recorded when Slack's reply comes back.
 */
export const CARD_RECORD_RECHECK_MS = 200;

/**
 * How much longer (ms) a post of this card in flight holds its claim: a run
 * that took the post and has not recorded its ts yet. 0 when none does.
 */
export function postClaimLeftMs(row: Pick<EscalationRow, 'cardState' | 'cardTs' | 'cardLeaseUntil'>, now: Date): number {
  if (row.cardTs || row.cardState !== 'posting') return 0;
  return Math.max(0, (row.cardLeaseUntil?.getTime() ?? 0) - now.getTime());
}
