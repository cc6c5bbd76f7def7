import { z } from 'zod';
import { fieldErrors, pathOf, requiredMessage, type FieldError } from './validation.js';

/**
 * The agent contract: what an agent puts on the `escalations` queue.
 * Versioned; `schemas/escalation.schema.json` is generated from this file
 * (`npm run schema`), and a test fails when the two drift apart.
 */
export const ESCALATION_SCHEMA_VERSION = 1;

/** Slack user ids start with U or W (Enterprise Grid). */
export const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id like U0123ABCD');

const shortText = z.string().min(1).max(200);
/** Long free text from the agent; cut for the card, shown whole in Details. */
const longText = z.string().max(20_000);

export const agentSchema = z.object({
  id: shortText.describe("The agent's id; policy entries and routes name it."),
  name: shortText.describe('Shown on the card.'),
  owner: slackUserId.describe('Slack user id of the person accountable for this agent. They can never approve its actions.'),
  model: shortText.describe('e.g. claude-sonnet-4'),
  modelVersion: shortText,
  promptVersion: shortText,
  toolVersions: z.record(z.string().max(100), z.string().max(100)).default({}).describe('`{ tool: version }`'),
});

export const actionSchema = z.object({
  type: z
    .string()
    .max(100)
    .regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/, 'must be dotted lower-case like payments.refund')
    .describe('Dotted lower-case, e.g. `payments.refund`.'),
  params: z.record(z.string().max(200), z.unknown()).default({}).describe("The action's arguments."),
  reversible: z.boolean(),
  summary: z.string().max(300).optional().describe("One line a human reads first, the card's headline, e.g. `Refund $340.00 for order #4521`."),
});

export const triggerSchema = z.object({
  kind: z.enum(['user_request', 'schedule', 'upstream_agent', 'other']).describe('What prompted the action.'),
  source: z.string().max(200).optional().describe("Who or what: a ticket id, a cron name, the upstream agent's id."),
  input: longText.describe('What triggered it, as the agent received it.'),
});

export const handoffSchema = z.object({
  attempted: longText.describe('What the agent tried.'),
  failed: longText.describe('What failed.'),
  gathered: longText.describe('What it found.'),
  recommendation: longText.describe('The next step it recommends.'),
});

export const costSchema = z.object({
  tokens: z.number().int().min(0).describe('Tokens spent so far in this task.'),
  usd: z.number().min(0).max(1_000_000).describe('Dollars spent so far in this task.'),
});

export const urgencySchema = z.enum(['low', 'normal', 'high', 'critical']);
export type Urgency = z.infer<typeof urgencySchema>;

export const escalationSchema = z
  .object({
    version: z.literal(ESCALATION_SCHEMA_VERSION),
    id: z.uuid().describe("Chosen by the agent; the job's jobId must equal it."),
    agent: agentSchema,
    executionId: shortText.describe("The agent's run, for correlating audit events; the task budget counts per execution id."),
    action: actionSchema,
    issueType: z.string().min(1).max(100).describe('routing key, e.g. refund, access, procurement'),
    urgency: urgencySchema.default('normal').describe('`high` and `critical` DM the on-call person; routes may match on it.'),
    trigger: triggerSchema,
    reasoning: longText.describe("The agent's reasoning, shown on the card."),
    confidence: z.number().min(0).max(1).describe('Below the policy threshold (0.7 by default), the `low_confidence` trigger sends the action to a person.'),
    handoff: handoffSchema,
    cost: costSchema,
    deadline: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('With `Z` or an offset. Unset: now plus `defaults.deadlineMinutes`. Undecided by then: the fail-safe outcome, deny.'),
    callback: z
      .object({ url: z.url({ protocol: /^https?$/ }).describe('`http(s)` URL to POST the signed decision to.') })
      .optional(),
    labels: z.record(z.string().max(100), z.string().max(200)).default({}).describe('`{ key: value }`; routes may match on them.'),
    conflictingInformation: z
      .boolean()
      .default(false)
      .describe('The agent found contradictory data it could not resolve: the `conflicting_information` trigger sends the action to a person.'),
    step: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Names the step across retries, for the `repeated_failure` trigger (counted from outcome reports within the execution). Default: the action type.'),
  })
  .strict();

export type EscalationInput = z.input<typeof escalationSchema>;
export type Escalation = z.output<typeof escalationSchema>;

export type { FieldError } from './validation.js';
export { describeErrors } from './validation.js';

export type ParseResult =
  | { ok: true; escalation: Escalation }
  | { ok: false; errors: FieldError[]; id?: string; executionId?: string; callbackUrl?: string };


/** Postgres text and jsonb refuse U+0000 and unpaired UTF-16 surrogates. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');
/** Nesting allowed in job data (the schema itself is 3 deep; params may nest). Deeper input is refused unwalked. */
export const MAX_DEPTH = 32;
const DEADLINE_MIN = Date.UTC(1970, 0, 1);
const DEADLINE_MAX = Date.UTC(9999, 11, 31, 23, 59, 59);

/** Agent-controlled text made safe to store and echo back: cut to `max`, unstorable characters replaced. */
export function storableText(s: string, max: number): string {
  return s.slice(0, max).replace(UNSTORABLE_ALL, '\ufffd');
}

/**
 * What the schema can't say but Postgres and the digest need: no NUL or
 * unpaired surrogate in any key or string, no `__proto__` key (a zod record
 * would silently drop it from the request the human approves), bounded depth.
 */
function storageErrors(data: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const path: PropertyKey[] = [];
  const at = () => pathOf(path) || '(root)';
  const walk = (v: unknown, depth: number): void => {
    if (errors.length >= 20) return;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v)) errors.push({ path: at(), message: 'must not contain NUL or unpaired surrogate characters' });
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    if (depth >= MAX_DEPTH) {
      errors.push({ path: at(), message: `nested deeper than ${MAX_DEPTH} levels` });
      return;
    }
    const entries: Array<[PropertyKey, unknown]> = Array.isArray(v) ? [...v.entries()] : Object.entries(v);
    for (const [k, x] of entries) {
      path.push(k);
      if (typeof k === 'string' && (k === '__proto__' || UNSTORABLE.test(k))) {
        errors.push({ path: at(), message: 'key must not be __proto__ or contain NUL or unpaired surrogate characters' });
      } else {
        walk(x, depth + 1);
      }
      path.pop();
    }
  };
  walk(data, 0);
  return errors;
}

/**
 * Validates job data. On failure it still salvages the id, execution id and
 * callback URL when they are well-formed, so the rejection can be recorded
 * against the escalation and the agent can be told.
 */
export function parseEscalation(data: unknown): ParseResult {
  const result = escalationSchema.safeParse(data, { error: requiredMessage });
  const extra = storageErrors(data);
  if (result.success) {
    const deadline = result.data.deadline ? Date.parse(result.data.deadline) : undefined;
    if (deadline !== undefined && !(deadline >= DEADLINE_MIN && deadline <= DEADLINE_MAX)) {
      extra.push({ path: 'deadline', message: 'must be between the years 1970 and 9999' });
    }
    if (extra.length === 0) return { ok: true, escalation: result.data };
  }
  const issues = result.success ? [] : fieldErrors(result.error);
  // Paths and messages can quote the agent's keys: keep them storable and short.
  const errors = [...issues, ...extra]
    .slice(0, 20)
    .map((e) => ({ path: storableText(e.path, 200), message: storableText(e.message, 300) }));
  const raw = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const id = z.uuid().safeParse(raw.id);
  const exec = shortText.safeParse(raw.executionId);
  const cb = z.object({ url: z.url({ protocol: /^https?$/ }) }).safeParse(raw.callback);
  return {
    ok: false,
    errors,
    id: id.success ? id.data : undefined,
    executionId: exec.success && !UNSTORABLE.test(exec.data) ? exec.data : undefined,
    callbackUrl: cb.success && !UNSTORABLE.test(cb.data.url) ? cb.data.url : undefined,
  };
}

