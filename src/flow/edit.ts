import { redactorOf } from '../domain/audit-config.js';
import type { CountersignConfig } from '../domain/config.js';
import { approvedDigest } from '../domain/digest.js';
import { applyEdits, editRefusal, editableFields, parseEdits, type EditableField, type SubmittedValues } from '../domain/edit.js';
import type { Escalation } from '../domain/escalation.js';
import type { EscalationRow } from '../db/schema/escalations.js';

/** An approval with edits, ready to be written with the decision. */
export interface ResolvedEdit {
  /** Every param as approved (the stored, masked request's, with the edits in place). */
  params: Record<string, unknown>;
  /** What the approval binds: digest.ts approvedDigest over the request digest and `to`. */
  digest: string;
  /** The edited params' requested values, and their approved ones. */
  from: Record<string, unknown>;
  to: Record<string, number | string>;
}

export type EditResolution =
  /** `edit` unset: nothing changed, so it is a plain approval. */
  | { kind: 'ok'; edit?: ResolvedEdit }
  | {
      kind: 'invalid';
      /** Per param name, shown on the modal's field. */
      errors: Record<string, string>;
      /** Set when the attempt is refused for the record: a param never offered, or an edit the policy puts out of reach. */
      refusal?: { reason: 'not_editable' | 'edit_not_approvable'; rule?: string; from?: Record<string, unknown>; to?: Record<string, unknown> };
    };

/** The fields the escalation's approver may edit, under the policy in force now. */
export function editableFieldsOf(config: CountersignConfig, row: EscalationRow): EditableField[] {
  const request = row.request as Escalation | null;
  if (!request?.action) return [];
  return editableFields(config.policy, request.agent.id, request.action.type, request.action.params);
}

/**
 * The approver's submitted values, checked as the request's own and run
 * through the policy beside the request (domain/edit.ts). Called by
 * commitDecision once the approver is authorised and the card's digest
 * matches, right before the guarded UPDATE.
 */
export function resolveEdit(config: CountersignConfig, row: EscalationRow, submitted: SubmittedValues): EditResolution {
  const request = row.request as Escalation;
  const fields = editableFieldsOf(config, row);
  if (fields.length === 0) {
    const errors = Object.fromEntries(Object.keys(submitted).map((k) => [k, 'Nothing on this request is editable.']));
    return { kind: 'invalid', errors, refusal: { reason: 'not_editable' } };
  }
  const parsed = parseEdits(fields, submitted, redactorOf(config.audit));
  if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors, ...(parsed.forged ? { refusal: { reason: 'not_editable' as const } } : {}) };
  const to = parsed.edits;
  if (Object.keys(to).length === 0) return { kind: 'ok' };
  const requested = request.action.params;
  const params = applyEdits(requested, to);
  const from = Object.fromEntries(Object.keys(to).map((k) => [k, requested[k]]));
  const refused = editRefusal(
    config.policy,
    { agentId: request.agent.id, actionType: request.action.type, issueType: request.issueType, confidence: request.confidence, conflictingInformation: request.conflictingInformation },
    requested,
    params,
  );
  if (refused) return { kind: 'invalid', errors: { [refused.field]: refused.message }, refusal: { reason: 'edit_not_approvable', rule: refused.rule, from, to } };
  return { kind: 'ok', edit: { params, digest: approvedDigest(row.digest ?? '', to), from, to } };
}
