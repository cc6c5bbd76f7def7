import type { Approval, DecisionMessage } from '../domain/decision.js';
import type { EscalationInput } from '../domain/escalation.js';
import type { OutcomeReport } from '../domain/outcome.js';
import type { AuthorizeAnswer } from '../flow/answer.js';
import { TimeoutError } from '../errors.js';
import { escalationIdOf, escalationOf, uuidV5, type AdapterOptions, type ToolCall } from './tool-call.js';

/**
 * What an adapter needs from Countersign. `CountersignClient` (BullMQ) is one;
 * anything with these three calls (an HTTP client of /api/authorize) is another.
 */
export interface Gate {
  authorize(escalation: EscalationInput, opts?: { timeoutMs?: number }): Promise<AuthorizeAnswer>;
  waitForDecision(id: string, opts?: { timeoutMs?: number }): Promise<DecisionMessage>;
  reportOutcome(report: Omit<OutcomeReport, 'step'> & { step?: string }): Promise<{ id: string }>;
}

/** What every framework adapter is given: the mapping, where to ask, and what a call that needs a person does. */
export interface GatedOptions extends AdapterOptions {
  /** Where to ask: a `CountersignClient`, or anything with the same three calls. */
  gate: Gate;
  /** The run these calls belong to (budgets and the repeated-failure trigger count per run); each adapter says its default. */
  executionId?: string;
  /** `wait` (default): hold the call until a person decides, up to `waitMs`. `suspend`: return, and answer it later. */
  pending?: 'wait' | 'suspend';
}

/** What the framework is told. `reason` is what the model sees on a denial. */
export type ToolDecision =
  | { kind: 'allow'; escalationId: string }
  | { kind: 'deny'; escalationId: string; reason: string; code: string }
  | { kind: 'pending'; escalationId: string };

/** The sentence the model reads when its call is refused: who or what refused it, and why. */
export function denialText(toolName: string, reason: string | null | undefined, code: string | null | undefined): string {
  const why = reason?.trim() || (code === 'expired' ? 'nobody decided in time' : 'no reason was given');
  return `Countersign did not approve ${toolName}: ${why}. Do not retry the same call; tell the user or choose another way.`;
}

/**
 * An approval with edits (Edit and approve…) is not the call the model made:
 * the adapter would run the model's own arguments, so it is refused, and the
 * model reads which values were approved.
 */
function editedRefusal(call: ToolCall, escalationId: string, approved: Approval | undefined): ToolDecision | undefined {
  if (!approved?.edited) return undefined;
  const values = Object.entries(approved.editedParams).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ');
  return { kind: 'deny', escalationId, code: 'approved_with_edits', reason: denialText(call.toolName, `a person approved it only with ${values}`, 'approved_with_edits') };
}

function fromAnswer(call: ToolCall, a: AuthorizeAnswer): ToolDecision {
  if (a.decision === 'allow') return editedRefusal(call, a.escalationId, a.approved) ?? { kind: 'allow', escalationId: a.escalationId };
  if (a.decision === 'pending') return { kind: 'pending', escalationId: a.escalationId };
  return { kind: 'deny', escalationId: a.escalationId, reason: denialText(call.toolName, a.reason, a.code), code: a.code };
}

function fromDecision(call: ToolCall, m: DecisionMessage): ToolDecision {
  if (m.proceed) return editedRefusal(call, m.escalationId, m.approved) ?? { kind: 'allow', escalationId: m.escalationId };
  if (m.status === 'pending') return { kind: 'pending', escalationId: m.escalationId };
  return { kind: 'deny', escalationId: m.escalationId, reason: denialText(call.toolName, m.decision?.reason, m.decision?.code ?? m.status), code: m.decision?.code ?? m.status };
}

/**
 * Asks once. Policy first: an autonomous or supervised action is `allow` at
 * once, a policy denial is `deny` with the rule's reason, and only an action
 * that needs a person is `pending`. Asking again for the same tool call
 * returns the state of the same escalation (never a second card).
 */
export async function askFor(gate: Gate, call: ToolCall, opts: AdapterOptions): Promise<ToolDecision> {
  const base = escalationOf(call, opts);
  const escalation = opts.enrich ? await opts.enrich(base, call) : base;
  return fromAnswer(call, await gate.authorize(escalation));
}

/**
 * Asks, and when a person is needed waits for them (up to `waitMs`, default
 * 10 minutes). No decision in time is a refusal: the tool must not run.
 */
export async function decide(gate: Gate, call: ToolCall, opts: AdapterOptions): Promise<ToolDecision> {
  const first = await askFor(gate, call, opts);
  if (first.kind !== 'pending') return first;
  return waitFor(gate, call, opts);
}

/** Waits for the person's decision on a call already asked about (after a resume, in another process). */
export async function waitFor(gate: Gate, call: ToolCall, opts: AdapterOptions): Promise<ToolDecision> {
  const id = escalationIdOf(opts.agent.id, call.toolCallId);
  const timeoutMs = opts.waitMs ?? 600_000;
  try {
    return fromDecision(call, await gate.waitForDecision(id, { timeoutMs }));
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
    return { kind: 'deny', escalationId: id, reason: denialText(call.toolName, `no decision within ${Math.round(timeoutMs / 1000)} s`, 'timeout'), code: 'timeout' };
  }
}

export interface ToolOutcome {
  success: boolean;
  output?: unknown;
  error?: unknown;
  cost?: { tokens: number; usd: number };
}

const textOf = (v: unknown) => (v === undefined ? undefined : (typeof v === 'string' ? v : v instanceof Error ? v.message : JSON.stringify(v) ?? String(v)).slice(0, 20_000));

/**
 * After the tool ran (or failed): the outcome report that completes the
 * record, counts against budgets and feeds the repeated-failure trigger.
 * Its id is derived from the call's, so reporting twice is a no-op.
 */
export async function reportOutcome(gate: Gate, call: ToolCall, opts: AdapterOptions, outcome: ToolOutcome): Promise<void> {
  const escalationId = escalationIdOf(opts.agent.id, call.toolCallId);
  const escalation = escalationOf(call, opts);
  await gate.reportOutcome({
    version: 1,
    id: uuidV5(`${escalationId}\u0000outcome`),
    escalationId,
    executionId: escalation.executionId,
    agentId: opts.agent.id,
    actionType: escalation.action.type,
    success: outcome.success,
    output: textOf(outcome.output),
    error: textOf(outcome.error),
    cost: outcome.cost ?? { tokens: 0, usd: 0 },
  });
}
