import { z } from 'zod';

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
  id: shortText,
  name: shortText,
  owner: slackUserId.describe('Slack user id of the person accountable for this agent'),
  model: shortText.describe('e.g. claude-sonnet-4'),
  modelVersion: shortText,
  promptVersion: shortText,
  toolVersions: z.record(z.string().max(100), z.string().max(100)).default({}),
});

export const actionSchema = z.object({
  type: z
    .string()
    .max(100)
    .regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/, 'must be dotted lower-case like payments.refund'),
  params: z.record(z.string().max(200), z.unknown()).default({}),
  reversible: z.boolean(),
  /** One line a human reads first, e.g. "Refund $340 to order #4521". */
  summary: z.string().max(300).optional(),
});

export const triggerSchema = z.object({
  kind: z.enum(['user_request', 'schedule', 'upstream_agent', 'other']),
  /** Who or what: a ticket id, a cron name, the upstream agent's id. */
  source: z.string().max(200).optional(),
  input: longText,
});

export const handoffSchema = z.object({
  attempted: longText,
  failed: longText,
  gathered: longText,
  recommendation: longText,
});

export const costSchema = z.object({
  tokens: z.number().int().min(0),
  usd: z.number().min(0).max(1_000_000),
});

export const urgencySchema = z.enum(['low', 'normal', 'high', 'critical']);
export type Urgency = z.infer<typeof urgencySchema>;

export const escalationSchema = z
  .object({
    version: z.literal(ESCALATION_SCHEMA_VERSION),
    id: z.uuid(),
    agent: agentSchema,
    executionId: shortText,
    action: actionSchema,
    issueType: z.string().min(1).max(100).describe('routing key, e.g. refund, access, procurement'),
    urgency: urgencySchema.default('normal'),
    trigger: triggerSchema,
    reasoning: longText,
    confidence: z.number().min(0).max(1),
    handoff: handoffSchema,
    cost: costSchema,
    /** ISO 8601 with offset. Unset: now + the config's default deadline. */
    deadline: z.iso.datetime({ offset: true }).optional(),
    callback: z.object({ url: z.url({ protocol: /^https?$/ }) }).optional(),
    labels: z.record(z.string().max(100), z.string().max(200)).default({}),
  })
  .strict();

export type EscalationInput = z.input<typeof escalationSchema>;
export type Escalation = z.output<typeof escalationSchema>;

export interface FieldError {
  path: string;
  message: string;
}

export type ParseResult =
  | { ok: true; escalation: Escalation }
  | { ok: false; errors: FieldError[]; id?: string; executionId?: string; callbackUrl?: string };

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

/**
 * Validates job data. On failure it still salvages the id, execution id and
 * callback URL when they are well-formed, so the rejection can be recorded
 * against the escalation and the agent can be told.
 */
export function parseEscalation(data: unknown): ParseResult {
  const result = escalationSchema.safeParse(data, {
    error: (issue) => (issue.input === undefined && issue.code === 'invalid_type' ? 'Required' : undefined),
  });
  if (result.success) return { ok: true, escalation: result.data };
  const errors = result.error.issues.slice(0, 20).map((i) => ({ path: pathOf(i.path) || '(root)', message: i.message }));
  const raw = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const id = z.uuid().safeParse(raw.id);
  const exec = shortText.safeParse(raw.executionId);
  const cb = z.object({ url: z.url({ protocol: /^https?$/ }) }).safeParse(raw.callback);
  return {
    ok: false,
    errors,
    id: id.success ? id.data : undefined,
    executionId: exec.success ? exec.data : undefined,
    callbackUrl: cb.success ? cb.data.url : undefined,
  };
}

export function describeErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path}: ${e.message}`).join('; ');
}
