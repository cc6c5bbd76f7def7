import type { RunContext, RunState, RunToolApprovalItem } from '@openai/agents';
import { CountersignError, ErrorCode } from '../errors.js';
import { decide, reportOutcome, waitFor, type Gate } from './gate.js';
import { mustPause } from './pause.js';
import type { AdapterOptions, ToolCall } from './tool-call.js';

/**
 * OpenAI Agents JS (`@openai/agents`): a tool's `needsApproval` asks
 * Countersign, an interrupted run's `RunState` is stored as a string
 * (`state.toString()`), and when the person decided, possibly hours later
 * and in another process, `RunState.fromString(agent, saved)` is resolved
 * with `resolveInterruptions` (approve, or reject with the reason the model
 * reads) and the run continues with `run(agent, state)`.
 *
 * - `countersignNeedsApproval(gate, opts, toolName)`: policy first, so an
 *   autonomous call never interrupts; the first check posts the card.
 * - `countersignExecute(gate, opts, toolName, execute)`: the tool runs only
 *   with a recorded allowance or approval, and its outcome is reported.
 * - `resolveInterruptions(state, gate, opts)`: waits for the decisions of
 *   the run's interruptions and applies them to the state.
 */
export interface OpenAIAgentsOptions extends AdapterOptions {
  /**
   * The run's execution id, from the run's context (`run(agent, input, { context })`),
   * which `RunState` serialises too. Default: `context.executionId` when it is
   * a string; without one, each tool call counts as its own execution.
   */
  executionIdOf?: (context: unknown) => string | undefined;
}

/** What the SDK passes as `execute`'s third argument, as far as it is read here. */
export interface ToolCallDetails {
  toolCall?: { callId?: string };
}

function executionIdOf(context: unknown, opts: OpenAIAgentsOptions): string {
  if (opts.executionIdOf) return opts.executionIdOf(context) ?? '';
  const id = (context as { executionId?: unknown } | null | undefined)?.executionId;
  return typeof id === 'string' ? id : '';
}

/** The `ToolCall` for one function call; the same in `needsApproval`, `execute` and after a resume. */
function toolCallOf(toolName: string, callId: string | undefined, args: unknown, context: RunContext<unknown> | undefined, opts: OpenAIAgentsOptions): ToolCall {
  if (!callId) throw new CountersignError(ErrorCode.InvalidInput, `tool ${toolName}: callId is missing; Countersign derives the escalation id from it`);
  const tokens = context?.usage.totalTokens ?? 0;
  return {
    toolName,
    toolCallId: callId,
    args,
    executionId: executionIdOf(context?.context, opts),
    ...(tokens > 0 ? { cost: { tokens, usd: 0 } } : {}),
  };
}

/**
 * The tool's `needsApproval`: true unless Countersign's policy lets the call
 * run on its own. A policy denial interrupts too, so `resolveInterruptions`
 * rejects it with the rule's reason.
 */
export function countersignNeedsApproval(gate: Gate, opts: OpenAIAgentsOptions, toolName: string) {
  return (context: RunContext<unknown>, input: unknown, callId?: string): Promise<boolean> =>
    mustPause(gate, toolCallOf(toolName, callId, input, context, opts), opts);
}

/**
 * Wraps the tool's `execute`: it runs only when Countersign allows the call
 * (asking again is idempotent, so an approved call is answered at once), then
 * the outcome is reported. A refusal is the tool's result: the reason, which
 * the model reads (the SDK would replace a thrown error's text with a generic
 * "An error occurred while running the tool").
 */
export function countersignExecute<A, R>(
  gate: Gate,
  opts: OpenAIAgentsOptions,
  toolName: string,
  execute: (input: A, context?: RunContext<unknown>, details?: ToolCallDetails) => Promise<R> | R,
) {
  return async (input: A, context?: RunContext<unknown>, details?: ToolCallDetails): Promise<R | string> => {
    const call = toolCallOf(toolName, details?.toolCall?.callId, input, context, opts);
    const answer = await decide(gate, call, opts);
    if (answer.kind !== 'allow') return answer.kind === 'deny' ? answer.reason : `Countersign did not approve ${toolName}: still pending.`;
    try {
      const output = await execute(input, context, details);
      await reportOutcome(gate, call, opts, { success: true, output });
      return output;
    } catch (err) {
      await reportOutcome(gate, call, opts, { success: false, error: err });
      throw err;
    }
  };
}

export interface Resolution {
  approved: RunToolApprovalItem[];
  rejected: RunToolApprovalItem[];
  /** Still undecided after `opts.waitMs`: the state stays interrupted; store it again and resolve later. */
  pending: RunToolApprovalItem[];
}

/**
 * Waits (up to `opts.waitMs` each, default 10 minutes, concurrently) for the
 * decisions on the state's interruptions and applies them: `state.approve`,
 * or `state.reject` with the reason as the message the model reads. Only the
 * escalation id is needed (agent id and call id), so a state restored from
 * its string in another process is enough; interruptions must come from
 * `countersignNeedsApproval`, which asked.
 */
// Any agent type: the state is read (interruptions, context) and decided, never run here.
export async function resolveInterruptions<TContext>(state: RunState<TContext, any>, gate: Gate, opts: OpenAIAgentsOptions): Promise<Resolution> {
  const items = state.getInterruptions();
  const executionId = executionIdOf(state._context.context, opts);
  const answers = await Promise.all(
    items.map((item) => {
      const name = item.name ?? item.toolName ?? '';
      const callId = 'callId' in item.rawItem ? item.rawItem.callId : undefined;
      if (!callId) throw new CountersignError(ErrorCode.InvalidInput, `interruption ${name}: callId is missing`);
      return waitFor(gate, { toolName: name, toolCallId: callId, args: item.arguments, executionId }, opts);
    }),
  );
  const out: Resolution = { approved: [], rejected: [], pending: [] };
  answers.forEach((answer, i) => {
    const item = items[i]!;
    if (answer.kind === 'allow') {
      state.approve(item);
      out.approved.push(item);
    } else if (answer.kind === 'pending' || answer.code === 'timeout') {
      out.pending.push(item);
    } else {
      state.reject(item, { message: answer.reason });
      out.rejected.push(item);
    }
  });
  return out;
}
