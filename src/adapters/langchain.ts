import { AIMessage, HumanMessage, ToolMessage, createMiddleware } from 'langchain';
import type { BaseMessage, Decision, HITLRequest, HITLResponse, InterruptOnConfig } from 'langchain';
import { CountersignError, ErrorCode } from '../errors.js';
import { decide, reportOutcome, type Gate } from './gate.js';
import { mustPause } from './pause.js';
import type { AdapterOptions, ToolCall } from './tool-call.js';

/**
 * LangChain.js v1 agents (`createAgent`): Countersign decides the tool calls
 * that `humanInTheLoopMiddleware` interrupts on, and the run is resumed with
 * `new Command({ resume })` through the agent's checkpointer once a person
 * decided. Countersign gates the tools named in `opts.tools` (an empty
 * mapping `{}` takes the defaults); other tools run as LangChain runs them.
 *
 * - `countersignInterruptOn(gate, opts)` is the middleware's `interruptOn`:
 *   policy first, so an autonomous call never interrupts.
 * - `countersignResume(agent, config, gate, opts)` waits for the decisions
 *   and builds the resume payload (approve, or reject with the reason the
 *   model reads).
 * - `countersignMiddleware(gate, opts)` runs around each gated tool: it lets
 *   it run only with a recorded allowance or approval and reports the
 *   outcome (success, output, error) after it ran.
 */

/** A tool call as LangChain carries it on an AI message. */
interface LangChainToolCall {
  name: string;
  args: Record<string, unknown>;
  id?: string;
}

const isAi = (m: BaseMessage): m is AIMessage => AIMessage.isInstance(m);
const isHuman = (m: BaseMessage) => HumanMessage.isInstance(m);

/** Countersign gates the tools named in `opts.tools`. */
const gated = (opts: AdapterOptions, name: string) => Object.hasOwn(opts.tools ?? {}, name);

/**
 * The `ToolCall` for one LangChain tool call, the same wherever it is built
 * (the interrupt check, the resume, the tool wrapper), since asking again
 * must send the same request: executionId is the thread, reasoning is what
 * the model wrote alongside the call, input is the user's last message.
 */
export function toolCallOf(call: LangChainToolCall, messages: readonly BaseMessage[], threadId: string | undefined): ToolCall {
  if (!call.id) throw new CountersignError(ErrorCode.InvalidInput, `tool call ${call.name}: id is missing; Countersign derives the escalation id from it`);
  const at = messages.findIndex((m) => isAi(m) && (m.tool_calls ?? []).some((c) => c.id === call.id));
  const ai = at >= 0 ? (messages[at] as AIMessage) : undefined;
  const human = messages.slice(0, at >= 0 ? at : messages.length).reverse().find(isHuman);
  const meta = (ai?.response_metadata ?? {}) as { model_name?: unknown; model?: unknown };
  const model = typeof meta.model_name === 'string' ? meta.model_name : typeof meta.model === 'string' ? meta.model : undefined;
  const tokens = ai?.usage_metadata?.total_tokens;
  return {
    toolName: call.name,
    toolCallId: call.id,
    args: call.args,
    executionId: threadId ?? '',
    reasoning: ai?.text || undefined,
    input: human?.text || undefined,
    ...(model ? { model } : {}),
    ...(tokens ? { cost: { tokens, usd: 0 } } : {}),
  };
}

/**
 * `interruptOn` for `humanInTheLoopMiddleware`: each gated tool interrupts
 * unless Countersign's policy lets the call run on its own. The first check
 * posts the card, so the person is asked while the run is paused.
 */
export function countersignInterruptOn(gate: Gate, opts: AdapterOptions): Record<string, InterruptOnConfig> {
  const config: InterruptOnConfig = {
    allowedDecisions: ['approve', 'reject'],
    description: (call) => `Countersign decides ${call.name} (escalation from tool call ${call.id ?? '?'}).`,
    when: async (request) =>
      mustPause(gate, toolCallOf(request.toolCall, request.state.messages, request.runtime.configurable?.thread_id), opts),
  };
  return Object.fromEntries(Object.keys(opts.tools ?? {}).map((name) => [name, config]));
}

const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : v !== null && typeof v === 'object'
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v);

/**
 * The tool calls behind an interrupt's action requests. The middleware
 * interrupts on the last AI message's calls, in order, but its requests carry
 * only name and arguments; each is matched to the first unused call with the
 * same name and arguments, which gives back the tool-call id.
 */
export function toolCallsOfRequest(request: HITLRequest, messages: readonly BaseMessage[]): LangChainToolCall[] {
  const last = [...messages].reverse().find(isAi);
  const unused = [...(last?.tool_calls ?? [])];
  return request.actionRequests.map((action, i) => {
    const at = unused.findIndex((c) => c.name === action.name && canonical(c.args) === canonical(action.args));
    if (at < 0) throw new CountersignError(ErrorCode.InvalidInput, `actionRequests[${i}] (${action.name}): no matching tool call on the last AI message`);
    return unused.splice(at, 1)[0]!;
  });
}

/**
 * The resume payload for an interrupt: one decision per action request, in
 * order. Waits for each person's decision (up to `opts.waitMs`, default 10
 * minutes); returns null when one is still undecided then, and the run
 * stays interrupted in the checkpointer until a later call.
 */
export async function countersignDecisions(
  gate: Gate,
  interrupt: { request: HITLRequest; messages: readonly BaseMessage[]; threadId?: string },
  opts: AdapterOptions,
): Promise<HITLResponse | null> {
  const calls = toolCallsOfRequest(interrupt.request, interrupt.messages).map((c) => toolCallOf(c, interrupt.messages, interrupt.threadId));
  const answers = await Promise.all(calls.map((call) => decide(gate, call, opts)));
  if (answers.some((a) => a.kind === 'pending' || (a.kind === 'deny' && a.code === 'timeout'))) return null;
  const decisions: Decision[] = answers.map((a) => (a.kind === 'allow' ? { type: 'approve' } : { type: 'reject', message: a.kind === 'deny' ? a.reason : '' }));
  return { decisions };
}

const isHitlRequest = (v: unknown): v is HITLRequest =>
  typeof v === 'object' && v !== null && Array.isArray((v as { actionRequests?: unknown }).actionRequests);

/** What `countersignResume` needs of the agent: `createAgent`'s result has it. */
export interface CheckpointedAgent {
  getState(config: { configurable?: { thread_id?: string } }): Promise<{
    values: unknown;
    tasks: ReadonlyArray<{ interrupts?: ReadonlyArray<{ value?: unknown }> }>;
  }>;
}

/**
 * Reads the thread's pending interrupt from the checkpointer and builds its
 * resume payload: `agent.invoke(new Command({ resume }), config)`. Null when
 * a decision is still outstanding after `opts.waitMs`. Throws when the thread
 * has no human-in-the-loop interrupt to resume.
 */
export async function countersignResume(
  agent: CheckpointedAgent,
  config: { configurable?: { thread_id?: string } },
  gate: Gate,
  opts: AdapterOptions,
): Promise<HITLResponse | null> {
  const snapshot = await agent.getState(config);
  const request = snapshot.tasks.flatMap((t) => t.interrupts ?? []).map((i) => i.value).find(isHitlRequest);
  const threadId = config.configurable?.thread_id;
  if (!request) throw new CountersignError(ErrorCode.InvalidInput, `thread ${threadId ?? '(none)'}: no human-in-the-loop interrupt to resume`);
  const messages = ((snapshot.values as { messages?: BaseMessage[] }).messages ?? []);
  return countersignDecisions(gate, { request, messages, threadId }, opts);
}

const textOf = (content: unknown) => (typeof content === 'string' ? content : JSON.stringify(content));

/**
 * Around each gated tool: it runs only when Countersign allows it (asking
 * again is idempotent: an approved call is answered at once, a denied one
 * gets the reason as its tool message), then the outcome is reported. This
 * also holds the line when a resume was built without Countersign.
 */
export function countersignMiddleware(gate: Gate, opts: AdapterOptions) {
  return createMiddleware({
    name: 'Countersign',
    wrapToolCall: async (request, handler) => {
      if (!gated(opts, request.toolCall.name)) return handler(request);
      const call = toolCallOf(request.toolCall, request.state.messages, request.runtime.configurable?.thread_id);
      const answer = await decide(gate, call, opts);
      if (answer.kind !== 'allow') {
        const reason = answer.kind === 'deny' ? answer.reason : `Countersign did not approve ${call.toolName}: still pending.`;
        return new ToolMessage({ content: reason, tool_call_id: call.toolCallId, name: call.toolName, status: 'error' });
      }
      try {
        const result = await handler(request);
        const failed = ToolMessage.isInstance(result) && result.status === 'error';
        const output = ToolMessage.isInstance(result) ? textOf(result.content) : undefined;
        await reportOutcome(gate, call, opts, failed ? { success: false, error: output } : { success: true, output });
        return result;
      } catch (err) {
        await reportOutcome(gate, call, opts, { success: false, error: err });
        throw err;
      }
    },
  });
}
