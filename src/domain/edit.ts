/**
 * Edit before approving: which params an approver may change, what they may
 * change them to, and whether the edited request still needs nothing more than
 * the one they were asked to approve. Pure; the Slack modal and the decide flow
 * (src/flow/edit.ts) build on it.
 */
import { canonicalJson } from './digest.js';
import { describeCondition, holds, type Condition } from './policy/conditions.js';
import { evaluatePolicy, findAction, type PolicyRequest } from './policy/evaluate.js';
import { tierRank, type ActionPolicy, type Policy } from './policy/schema.js';
import type { Redactor } from './redact.js';

/** Longest text an approver may type for one param: Slack's plain_text_input allows 3,000 characters. */
export const EDIT_TEXT_MAX = 3000;
/** Largest magnitude of an edited number: past 2^53 JSON numbers lose digits. */
export const EDIT_NUMBER_MAX = Number.MAX_SAFE_INTEGER;
/** Texts this long or with a line break get a multi-line input. */
const MULTILINE_FROM = 150;

export interface EditableField {
  name: string;
  /** From the requested value's type: a number input for numbers, plain text for strings. */
  kind: 'number' | 'text';
  /** The requested value (as stored, PII masked), pre-filled in the modal. */
  value: number | string;
  multiline: boolean;
}

/** A param as the agent sent it: a number or a string we can pre-fill; anything else is not editable. */
function fieldOf(name: string, value: unknown): EditableField | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= EDIT_NUMBER_MAX) return { name, kind: 'number', value, multiline: false };
  if (typeof value === 'string' && value.length <= EDIT_TEXT_MAX) {
    return { name, kind: 'text', value, multiline: value.length >= MULTILINE_FROM || value.includes('\n') };
  }
  return undefined;
}

/** The action's policy entry, as evaluatePolicy finds it (exact first, then globs). */
export function actionPolicyOf(policy: Policy | undefined, agentId: string, actionType: string): ActionPolicy | undefined {
  const agent = policy?.agents.find((a) => a.id === agentId);
  return agent ? findAction(agent)(actionType)?.[0] : undefined;
}

/**
 * The fields of a request an approver may edit: the policy's `editable`
 * names that the request carries as a number or a string, in the policy's
 * order. Params the request lacks are never added by an edit.
 */
export function editableFields(policy: Policy | undefined, agentId: string, actionType: string, params: Readonly<Record<string, unknown>>): EditableField[] {
  const names = actionPolicyOf(policy, agentId, actionType)?.editable ?? [];
  return names.flatMap((name) => {
    if (!Object.hasOwn(params, name)) return [];
    const field = fieldOf(name, params[name]);
    return field ? [field] : [];
  });
}

/** What the approver submitted, per param name: the input's text (null when left empty). */
export type SubmittedValues = Readonly<Record<string, string | null | undefined>>;

export type ParsedEdit =
  | {
      ok: true;
      /** Only the params whose value changed, with their new values. Empty: approved as asked. */
      edits: Record<string, number | string>;
    }
  | {
      ok: false;
      /** Per param name, what is wrong, in words for the approver. */
      errors: Record<string, string>;
      /** A param the modal never offered: a forged submission, recorded as a refusal. */
      forged: boolean;
    };

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** A plain decimal, as people type amounts: `200`, `-3`, `199.99`, `.5`; no exponents, hex or grouping. */
const DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)$/;

function parseValue(field: EditableField, raw: string | null | undefined): { value: number | string } | { error: string } {
  if (field.kind === 'number') {
    const text = (raw ?? '').trim();
    if (text === '') return { error: 'Required: enter a number.' };
    if (!DECIMAL.test(text)) return { error: 'Must be a number, like 200 or 199.99.' };
    const n = Number(text);
    if (!Number.isFinite(n) || Math.abs(n) > EDIT_NUMBER_MAX) return { error: 'Too large.' };
    // An edit can't turn a payment into its reverse: a non-negative amount stays non-negative.
    if (n < 0 && (field.value as number) >= 0) return { error: 'Must not be negative.' };
    return { value: n };
  }
  const text = raw ?? '';
  if (text.trim() === '' && (field.value as string).trim() !== '') return { error: 'Required: the agent asked with a value here.' };
  if (text.length > EDIT_TEXT_MAX) return { error: `Too long: at most ${EDIT_TEXT_MAX.toLocaleString('en-US')} characters (${text.length.toLocaleString('en-US')} given).` };
  if (UNSTORABLE.test(text)) return { error: 'Contains characters that cannot be stored (NUL or unpaired surrogates).' };
  return { value: text };
}

/**
 * The approver's values, checked as the request's own: the requested value's
 * type, storable text, the length a text input allows, no sign flip. A value
 * the redactor would mask (an email, a card number, a field it hides) is
 * refused: the agent receives the edited params as stored, so a masked value
 * would reach it as the mask.
 */
export function parseEdits(fields: readonly EditableField[], submitted: SubmittedValues, redactor: Redactor): ParsedEdit {
  const byName = new Map(fields.map((f) => [f.name, f]));
  const errors: Record<string, string> = {};
  let forged = false;
  for (const name of Object.keys(submitted)) {
    if (!byName.has(name)) {
      errors[name] = 'This param is not editable for this action.';
      forged = true;
    }
  }
  const edits: Record<string, number | string> = {};
  for (const f of fields) {
    // A field missing from the submission keeps its requested value.
    if (!Object.hasOwn(submitted, f.name)) continue;
    const parsed = parseValue(f, submitted[f.name]);
    if ('error' in parsed) {
      errors[f.name] = parsed.error;
      continue;
    }
    if (parsed.value === f.value) continue;
    const masked = redactor.value({ [f.name]: parsed.value });
    if (canonicalJson(masked) !== canonicalJson({ [f.name]: parsed.value })) {
      errors[f.name] = 'Looks like personal data (an email, a card or phone number…), which Countersign masks: it cannot be sent to the agent as an edit.';
      continue;
    }
    edits[f.name] = parsed.value;
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors, forged } : { ok: true, edits };
}

/** The params after the edits: the requested ones, with the edited values replacing theirs. */
export function applyEdits(params: Readonly<Record<string, unknown>>, edits: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { ...params, ...edits };
}

export interface ParamChange {
  name: string;
  from: unknown;
  to: unknown;
}

/** The params whose value differs, in the order of `to` (then names only `from` has). */
export function diffParams(from: Readonly<Record<string, unknown>>, to: Readonly<Record<string, unknown>>): ParamChange[] {
  const names = [...new Set([...Object.keys(to), ...Object.keys(from)])];
  return names.filter((n) => canonicalJson(from[n]) !== canonicalJson(to[n])).map((name) => ({ name, from: from[name], to: to[name] }));
}

/**
 * The params an approver changed (Edit and approve…), with their approved
 * values, from a stored row: its request and its `approved_params`. Null when
 * approved as asked.
 */
export function editedParamsOf(row: { approvedParams: Record<string, unknown> | null; request: unknown }): Record<string, unknown> | null {
  if (!row.approvedParams) return null;
  const requested = (row.request as { action?: { params?: Record<string, unknown> } } | null)?.action?.params ?? {};
  return Object.fromEntries(diffParams(requested, row.approvedParams).map((c) => [c.name, c.to]));
}

/** The top-level params a condition reads. */
function paramsOf(c: Condition): string[] {
  if ('all' in c) return c.all.flatMap(paramsOf);
  if ('any' in c) return c.any.flatMap(paramsOf);
  if ('not' in c) return paramsOf(c.not);
  return [c.param.split('.')[0]!];
}

export interface EditRefusal {
  /** The edited param the refusal is shown on. */
  field: string;
  message: string;
  /** The policy entry that refused, e.g. `policy.agents[1].actions[0].rules[1]`. */
  rule: string;
}

/**
 * Runs the policy on the edited request beside the requested one (the same
 * policy, the same facts but the params) and refuses an edit that needs more
 * than the request did: a deny, a stricter tier, any parameter rule or
 * high-stakes condition that did not hold for the request (a rule may carry
 * its own approvers or quorum), or a new trigger. An edit that needs less
 * (under an autonomous limit, say) is fine: the approver approves it.
 */
export function editRefusal(
  policy: Policy | undefined,
  req: Omit<PolicyRequest, 'params'>,
  from: Readonly<Record<string, unknown>>,
  to: Readonly<Record<string, unknown>>,
): EditRefusal | undefined {
  const edited = Object.keys(to).filter((k) => canonicalJson(from[k]) !== canonicalJson(to[k]));
  if (!policy || edited.length === 0) return undefined;
  const ctx = { stepFailures: 0 };
  const before = evaluatePolicy(policy, { ...req, params: { ...from } }, ctx);
  const after = evaluatePolicy(policy, { ...req, params: { ...to } }, ctx);
  const agentIndex = policy.agents.findIndex((a) => a.id === req.agentId);
  const agent = policy.agents[agentIndex];
  const found = agent ? findAction(agent)(req.actionType) : undefined;
  const on = (c: Condition | undefined) => (c ? paramsOf(c).find((p) => edited.includes(p)) : undefined) ?? edited[0]!;
  const conditionAt = (rule: string): Condition | undefined => {
    const deny = /\.deny\[(\d+)\]$/.exec(rule);
    if (deny && agent) return agent.deny[Number(deny[1])]?.when;
    const r = /\.rules\[(\d+)\]$/.exec(rule);
    if (r && found) return found[0].rules[Number(r[1])]?.when;
    return undefined;
  };

  if (after.outcome === 'deny') {
    return { field: on(conditionAt(after.rule)), rule: after.rule, message: `Policy denies ${req.actionType} with this value: ${after.reason}.` };
  }
  if (after.tier && before.tier && tierRank(after.tier) > tierRank(before.tier)) {
    return { field: on(conditionAt(after.rule)), rule: after.rule, message: `This value makes it ${after.tier} (${after.reason}), more than you were asked to approve.` };
  }
  if (found) {
    const [action, xi] = found;
    const at = `policy.agents[${agentIndex}].actions[${xi}]`;
    for (const [ri, r] of action.rules.entries()) {
      if (holds(r.when, to) && !holds(r.when, from)) {
        return {
          field: on(r.when),
          rule: `${at}.rules[${ri}]`,
          message: `This value falls under another rule (${r.reason}) than the request you were asked to approve: the agent must ask for it itself.`,
        };
      }
    }
    if (action.highStakes && holds(action.highStakes, to) && !holds(action.highStakes, from)) {
      return { field: on(action.highStakes), rule: `${at}.highStakes`, message: `This value makes it high stakes (${describeCondition(action.highStakes)}): the agent must ask for it itself.` };
    }
  }
  const had = new Set(before.triggers.map((t) => t.kind));
  const added = after.triggers.find((t) => !had.has(t.kind));
  if (added) return { field: edited[0]!, rule: after.rule, message: `This value adds a reason for review (${added.message}): the agent must ask for it itself.` };
  return undefined;
}

/**
 * Config check: `editable` names whose whole value the redactor hides
 * (`password`, `token`, … and `audit.redact.fields`) could never be shown or
 * edited, so naming them is a mistake, reported with its place.
 */
export function hiddenEditableIssues(policy: Policy | undefined, hiddenFields: readonly string[]): Array<{ path: Array<string | number>; message: string }> {
  const hidden = new Set(hiddenFields.map((f) => f.toLowerCase()));
  const issues: Array<{ path: Array<string | number>; message: string }> = [];
  policy?.agents.forEach((a, ai) =>
    a.actions.forEach((x, xi) =>
      (x.editable ?? []).forEach((name, ni) => {
        if (hidden.has(name.toLowerCase())) {
          issues.push({ path: ['policy', 'agents', ai, 'actions', xi, 'editable', ni], message: `${name} is always masked (a redacted field), so it cannot be edited` });
        }
      }),
    ),
  );
  return issues;
}
