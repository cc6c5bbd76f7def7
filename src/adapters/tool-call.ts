import { createHash } from 'node:crypto';
import { ESCALATION_SCHEMA_VERSION, type EscalationInput, type Urgency } from '../domain/escalation.js';

/**
 * The one mapping every framework adapter shares: a model's tool call becomes
 * an escalation, and Countersign's answer becomes the framework's approve,
 * deny or wait. Adapters stay thin: they read the framework's tool call into a
 * `ToolCall` and hand the answer back; nothing else.
 */

/** Who the agent is, as the escalation contract needs it (`agent` in the schema). */
export interface AgentIdentity {
  id: string;
  name?: string;
  /** Slack user id of the person accountable for the agent; they can never approve its actions. */
  owner: string;
  model?: string;
  modelVersion?: string;
  promptVersion?: string;
  toolVersions?: Record<string, string>;
}

/** How one tool maps onto policy. Unlisted tools get `tool.<snake_name>`, irreversible, issue type `agent-tool`. */
export interface ToolPolicyMapping {
  /** Dotted lower-case action type, e.g. `payments.refund`. */
  type?: string;
  /** Default false: an action nobody declared undoable is treated as irreversible. */
  reversible?: boolean;
  issueType?: string;
  urgency?: Urgency;
  /** The card's headline from the arguments, e.g. `Refund $340.00 for order #4521`. */
  summary?: (args: Record<string, unknown>) => string;
}

/** A tool call as a framework reports it. */
export interface ToolCall {
  toolName: string;
  /** The framework's id for this call; the escalation id is derived from it, so asking again is idempotent. */
  toolCallId: string;
  args: unknown;
  /** The run (conversation, thread) the call belongs to; budgets count per execution. */
  executionId: string;
  /** What the model said before the call, when the framework exposes it. */
  reasoning?: string;
  /** What started the run (the user's message), when known. */
  input?: string;
  /** Model id from the framework, when it knows it (overrides the identity's). */
  model?: string;
  cost?: { tokens: number; usd: number };
}

export interface AdapterOptions {
  agent: AgentIdentity;
  tools?: Record<string, ToolPolicyMapping>;
  /** Default confidence when the model states none (0–1). Default 0.9: above the seed's 0.7 threshold. */
  confidence?: number;
  /** Milliseconds to wait for a person before giving up (the action is then refused). Default 10 minutes. */
  waitMs?: number;
  /** The documented hook: add reasoning, handoff, labels, confidence or a callback to the escalation before it is sent. */
  enrich?: (escalation: EscalationInput, call: ToolCall) => EscalationInput | Promise<EscalationInput>;
}

// A fixed namespace: the same agent and tool-call id give the same escalation id on every host.
const NAMESPACE = '6c0e2f9a-3b8d-5e71-9a44-2d5f8c1b7e30';

/** RFC 9562 version 5 UUID (SHA-1, name-based): deterministic, and a valid `z.uuid()`. */
export function uuidV5(name: string, namespace = NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The escalation id for one tool call of one agent: asking twice for the same call is the same escalation. */
export function escalationIdOf(agentId: string, toolCallId: string): string {
  return uuidV5(`${agentId}\u0000${toolCallId}`);
}

/** `sendEmail` or `send-email` → `send_email`: the schema wants dotted lower-case. */
export function actionTypeOf(toolName: string, mapping?: ToolPolicyMapping): string {
  if (mapping?.type) return mapping.type;
  const snake = toolName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `tool.${(snake || 'unnamed').slice(0, 90)}`;
}

const text = (s: string | undefined, fallback: string, max: number) => (s && s.trim() ? s : fallback).slice(0, max);

function paramsOf(args: unknown): Record<string, unknown> {
  if (typeof args === 'object' && args !== null && !Array.isArray(args)) return args as Record<string, unknown>;
  if (typeof args === 'string') {
    try {
      const parsed: unknown = JSON.parse(args);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // Not JSON: kept as the single argument below.
    }
  }
  return args === undefined ? {} : { input: args };
}

/** The escalation for a tool call, before the developer's `enrich` hook. */
export function escalationOf(call: ToolCall, opts: AdapterOptions): EscalationInput {
  const mapping = opts.tools?.[call.toolName];
  const params = paramsOf(call.args);
  const type = actionTypeOf(call.toolName, mapping);
  const reasoning = text(call.reasoning, `The model called the tool ${call.toolName}.`, 20_000);
  return {
    version: ESCALATION_SCHEMA_VERSION,
    id: escalationIdOf(opts.agent.id, call.toolCallId),
    agent: {
      id: opts.agent.id,
      name: text(opts.agent.name, opts.agent.id, 200),
      owner: opts.agent.owner,
      model: text(call.model ?? opts.agent.model, 'unknown', 200),
      modelVersion: text(opts.agent.modelVersion, 'unknown', 200),
      promptVersion: text(opts.agent.promptVersion, 'unknown', 200),
      toolVersions: opts.agent.toolVersions ?? {},
    },
    executionId: text(call.executionId, call.toolCallId, 200),
    action: {
      type,
      params,
      reversible: mapping?.reversible ?? false,
      ...(mapping?.summary ? { summary: mapping.summary(params).slice(0, 300) } : {}),
    },
    issueType: mapping?.issueType ?? 'agent-tool',
    urgency: mapping?.urgency ?? 'normal',
    trigger: { kind: 'user_request', source: call.executionId.slice(0, 200), input: text(call.input, '(not given)', 20_000) },
    reasoning,
    confidence: opts.confidence ?? 0.9,
    handoff: {
      attempted: `Call ${call.toolName}`,
      failed: 'Nothing yet: approval is needed before the call.',
      gathered: reasoning,
      recommendation: `Run ${call.toolName} with the arguments shown.`,
    },
    cost: call.cost ?? { tokens: 0, usd: 0 },
  };
}
