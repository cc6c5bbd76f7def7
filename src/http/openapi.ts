import { z } from 'zod';
import { ESCALATION_SCHEMA_VERSION, escalationSchema } from '../domain/escalation.js';
import { STATUSES, type DecisionMessage } from '../domain/decision.js';
import type { AuthorizeAnswer } from '../flow/answer.js';
import { MAX_BODY_BYTES, MAX_WAIT_SEC } from './authorize.js';

/** Where `npm run schema` writes the document, relative to the repository root; `GET /api/openapi.json` serves the same. */
export const OPENAPI_PATH = 'schemas/openapi.json';

const triggerSchema = z.object({
  kind: z.enum(['low_confidence', 'out_of_domain', 'high_stakes', 'conflicting_information', 'repeated_failure', 'task_budget']),
  message: z.string().describe('Why a person is needed, e.g. `confidence 0.62 is below 0.70`.'),
});

const approvalsSchema = z
  .object({
    required: z.number().int().describe('Approvals from different people needed before it is approved.'),
    by: z.array(z.string()).describe('Who approved so far, in order (Slack user ids); never the agent\'s owner.'),
  })
  .describe('Present when a policy rule asks for more than one approval (a quorum).');

const approvalSchema = z
  .object({
    edited: z.boolean().describe('`false`: approved as asked, run your request. `true`: an approver changed params; run your request with `editedParams` in place of yours.'),
    editedParams: z.record(z.string(), z.unknown()).describe('The params the approver changed, with the values to run with; `{}` when approved as asked.'),
    requestDigest: z.string().describe('The digest of the request you asked for.'),
    approvedDigest: z.string().describe('What was approved: `requestDigest` when approved as asked, else sha256 over canonical JSON `{"editedParams":…,"requestDigest":…}`.'),
  })
  .describe('What to run, whenever the answer lets you proceed.');

/** The answer's shape for the document; the compile-time checks below keep it equal to AuthorizeAnswer. */
const authorizeAnswerSchema = z
  .object({
    escalationId: z.uuid(),
    decision: z.enum(['allow', 'deny', 'pending']).describe('`allow`: go ahead; `deny`: do not; `pending`: a person decides (poll `Location`).'),
    status: z.string().describe('The escalation status: `allowed`, `denied`, `pending`, `approved`, `expired`, `rejected`.'),
    code: z.string().describe('`policy_allowed`, `policy_denied`, `budget_paused`, `needs_approval`, `standing_approved` (a standing approval covered it: `reason` names it and its grantor), or `duplicate` for a repeated id.'),
    tier: z.string().nullable(),
    rule: z.string().nullable().describe('The policy rule that decided, e.g. `policy.agents[0].deny[1]`.'),
    reason: z.string().nullable(),
    triggers: z.array(triggerSchema),
    policyVersion: z.string().nullable(),
    approvals: approvalsSchema.optional(),
    approved: approvalSchema.optional(),
  })
  .describe('The escalation job\'s return value, the same over HTTP.');

const fieldErrorSchema = z.object({ path: z.string().describe('The field, e.g. `action.params.amountUsd`; `(root)` for the body.'), message: z.string() });

const decisionMessageSchema = z
  .object({
    version: z.literal(1),
    escalationId: z.uuid(),
    executionId: z.string().nullable(),
    status: z.enum(STATUSES),
    proceed: z.boolean().describe('Act only when true.'),
    decision: z
      .object({
        by: z.string().nullable(),
        at: z.string().nullable(),
        reason: z.string().nullable(),
        failSafe: z.boolean(),
        code: z.string().nullable(),
        tier: z.string().nullable(),
        rule: z.string().nullable(),
      })
      .nullable(),
    review: z.object({ verdict: z.enum(['ok', 'wrong']), by: z.string(), at: z.string(), note: z.string().nullable() }).optional(),
    signal: z.literal('compensate').optional(),
    requestDigest: z.string().nullable(),
    approved: approvalSchema.optional(),
    errors: z.array(fieldErrorSchema).optional(),
    approvals: approvalsSchema.optional(),
  })
  .describe('The decision message, as on every path back to the agent.');

const errorSchema = z.object({ error: z.string(), message: z.string(), errors: z.array(fieldErrorSchema).optional() });

// Compile-time: the documented shapes are the ones the code sends.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const answerMatches: Same<z.output<typeof authorizeAnswerSchema>, AuthorizeAnswer> = true;
const messageMatches: Same<z.output<typeof decisionMessageSchema>, DecisionMessage> = true;
void answerMatches;
void messageMatches;

const schemaOf = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonOf = (name: string) => ({ 'application/json': { schema: ref(name) } });
const waitParam = {
  name: 'wait',
  in: 'query',
  required: false,
  description: `Long-poll: hold a pending answer up to this many seconds (0 to ${MAX_WAIT_SEC}) until a person decides.`,
  schema: { type: 'integer', minimum: 0, maximum: MAX_WAIT_SEC, default: 0 },
};
const unauthorized = { description: 'No `Authorization: Bearer <token>` naming one of API_TOKENS.', content: jsonOf('Error') };

/**
 * The agent HTTP API as OpenAPI 3.1 (whose schemas are JSON Schema 2020-12),
 * generated from the same zod schemas the bot validates with. Deterministic,
 * so the committed copy compares byte for byte.
 */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Countersign agent API',
      version: String(ESCALATION_SCHEMA_VERSION),
      description: 'Ask before acting, over HTTP. Generated from src/domain/escalation.ts and src/http/openapi.ts by `npm run schema`; do not edit.',
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/authorize': {
        post: {
          operationId: 'authorize',
          summary: 'The decision for an action: allow, deny, or pending a person',
          description: `The body is the escalation job data (at most ${MAX_BODY_BYTES} bytes). Idempotent on \`id\`: a repeat answers the escalation as it stands (\`code: duplicate\`) and never posts a second card. \`allow\` is answered only once the escalation is recorded.`,
          parameters: [waitParam],
          requestBody: { required: true, content: jsonOf('Escalation') },
          responses: {
            '200': { description: '`allow` or `deny` (policy decided, or a person did within `wait`).', content: jsonOf('AuthorizeAnswer') },
            '202': {
              description: '`pending`: a person decides. Poll `Location` (`GET /api/escalations/{id}`, with `?wait=`).',
              headers: { Location: { schema: { type: 'string' }, description: '`/api/escalations/{id}`' } },
              content: jsonOf('AuthorizeAnswer'),
            },
            '400': { description: 'Invalid JSON, or an invalid escalation: `errors` names each field. An invalid escalation with a valid `id` is recorded as rejected.', content: jsonOf('Error') },
            '401': unauthorized,
            '413': { description: `Body larger than ${MAX_BODY_BYTES} bytes.`, content: jsonOf('Error') },
            '415': { description: 'Content-Type other than application/json.', content: jsonOf('Error') },
          },
        },
      },
      '/api/escalations/{id}': {
        get: {
          operationId: 'getEscalation',
          summary: "An escalation's decision message (status `pending` until decided)",
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }, waitParam],
          responses: {
            '200': { description: 'The decision message; `proceed: true` only for a recorded approval or allowance.', content: jsonOf('DecisionMessage') },
            '400': { description: '`id` is not a UUID, or `wait` is out of range.', content: jsonOf('Error') },
            '401': unauthorized,
            '404': { description: 'No such escalation.', content: jsonOf('Error') },
          },
        },
      },
      '/api/openapi.json': {
        get: { operationId: 'openapi', summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } } },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'One of API_TOKENS.' } },
      schemas: {
        Escalation: schemaOf(escalationSchema, 'input'),
        AuthorizeAnswer: schemaOf(authorizeAnswerSchema, 'output'),
        DecisionMessage: schemaOf(decisionMessageSchema, 'output'),
        Error: schemaOf(errorSchema, 'output'),
      },
    },
  };
}

/** The document as committed: 2-space JSON with a trailing newline. */
export function renderOpenApi(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}
