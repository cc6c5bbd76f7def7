import type { Agent } from '@mastra/core/agent';
import type { MastraModelOutput } from '@mastra/core/stream';
import type { ToolHooks } from '@mastra/core/tools';
import { CountersignError, ErrorCode } from '../errors.js';
import { askFor, decide, denialText, reportOutcome, waitFor, type GatedOptions, type Gate, type ToolDecision } from './gate.js';
import type { AdapterOptions, ToolCall } from './tool-call.js';

/**
 * Countersign for Mastra (`@mastra/core` 1): every tool call suspends for
 * approval (`requireToolApproval`), Countersign decides, and the adapter
 * answers with `approveToolCall` or `declineToolCall({ reason })`.
 *
 *   const cs = countersign({ gate: client, agent: { id: 'support-agent', owner: 'U0…' } });
 *   const run = await cs.drive(agent, await agent.stream(prompt, cs.streamOptions), { input: prompt });
 *   console.log(await run.output.text);
 *
 * An autonomous call is approved in the milliseconds Countersign takes to
 * answer; a denied one is declined with the rule's reason, which the model
 * reads; one that needs a person waits for the Slack decision (`pending:
 * 'wait'`) or leaves the run suspended for `resume` (`pending: 'suspend'`).
 * The hooks check again before the tool runs and report its outcome after.
 */

export type { Gate, GatedOptions, ToolDecision } from './gate.js';
export type { AdapterOptions, AgentIdentity, ToolPolicyMapping } from './tool-call.js';

/** `executionId` defaults to Mastra's `runId` of the stream; `pending: 'suspend'` returns with the run suspended, for `resume` later. */
export type MastraOptions = GatedOptions;

/** A tool call Countersign is still deciding; the Mastra run stays suspended on it. */
export interface SuspendedCall {
  runId: string;
  toolCallId: string;
  toolName: string;
  escalationId: string;
}

export interface CountersignedRun {
  /** The last stream of the run (already read): `await output.text`, `output.usage`… */
  output: MastraModelOutput<unknown>;
  runId: string;
  /** Set only with `pending: 'suspend'` when a person has yet to decide. */
  suspended?: SuspendedCall;
}

type Output = MastraModelOutput<unknown>;
/** What the adapter calls on an agent: any `Agent` has these. */
type AnyAgent = Pick<Agent, 'approveToolCall' | 'declineToolCall' | 'getModel'>;
type Chunk = { type: string; payload?: unknown };
interface Approval {
  toolCallId: string;
  toolName: string;
  args: Record<string, unknown>;
}

export interface Countersign {
  /** Before a tool runs: Countersign must have allowed this call. After: its outcome. Given also in `streamOptions`. */
  hooks: ToolHooks;
  /** Spread into `agent.stream(messages, { ...cs.streamOptions, … })`: every tool call asks first. */
  streamOptions: { requireToolApproval: true; hooks: ToolHooks };
  /** Reads the stream, answers each approval request with Countersign's decision, and follows the resumed streams to the end. */
  drive(agent: AnyAgent, stream: Output, opts?: { input?: string; onChunk?: (chunk: Chunk) => void }): Promise<CountersignedRun>;
  /** After `pending: 'suspend'` or a restart (find the run with `agent.listSuspendedRuns`): waits for the decision and answers it. */
  resume(agent: AnyAgent, call: Omit<SuspendedCall, 'escalationId'>, opts?: { onChunk?: (chunk: Chunk) => void }): Promise<CountersignedRun>;
}

export function countersign(options: MastraOptions): Countersign {
  // Which run a tool call belongs to, for the hooks (they do not see Mastra's runId).
  const runOf = new Map<string, string>();
  const executionOf = (toolCallId: string) => options.executionId ?? runOf.get(toolCallId) ?? toolCallId;
  const callOf = (toolName: string, toolCallId: string, args: unknown, extra: Partial<ToolCall> = {}): ToolCall => ({
    toolName,
    toolCallId,
    args,
    executionId: executionOf(toolCallId),
    ...extra,
  });

  const hooks: ToolHooks = {
    // Mastra runs this after an approval: the tool runs only on Countersign's recorded allow.
    beforeToolCall: async ({ toolName, input, context }) => {
      const call = callOf(toolName, toolCallIdOf(context), input);
      const d = await decide(options.gate, call, options);
      if (d.kind !== 'allow') return { proceed: false, output: d.kind === 'deny' ? d.reason : denialText(toolName, 'no decision yet', 'pending') };
    },
    afterToolCall: async ({ toolName, input, context, output, error }) => {
      const call = callOf(toolName, toolCallIdOf(context), input);
      await reportOutcome(options.gate, call, options, error === undefined ? { success: true, output } : { success: false, error });
      runOf.delete(call.toolCallId);
    },
  };
  const streamOptions = { requireToolApproval: true as const, hooks };

  /** Approves or declines one suspended call, returning the stream that continues the run. */
  const answer = (agent: AnyAgent, call: { runId: string; toolCallId: string; toolName: string }, d: ToolDecision): Promise<Output> =>
    d.kind === 'allow'
      ? agent.approveToolCall({ runId: call.runId, toolCallId: call.toolCallId, ...streamOptions })
      : agent.declineToolCall({
          runId: call.runId,
          toolCallId: call.toolCallId,
          reason: d.kind === 'deny' ? d.reason : denialText(call.toolName, 'no decision yet', 'pending'),
          ...streamOptions,
        });

  async function follow(agent: AnyAgent, first: Output, input: string | undefined, onChunk?: (c: Chunk) => void): Promise<CountersignedRun> {
    const said: string[] = [];
    let stream = first;
    for (;;) {
      const runId = stream.runId;
      const approvals: Approval[] = [];
      for await (const chunk of stream.fullStream as AsyncIterable<Chunk>) {
        onChunk?.(chunk);
        if (chunk.type === 'text-delta') said.push((chunk.payload as { text: string }).text);
        if (chunk.type === 'tool-call-approval') approvals.push(chunk.payload as Approval);
      }
      const next = approvals[0];
      if (!next) return { output: stream, runId };
      runOf.set(next.toolCallId, runId);
      const call = callOf(next.toolName, next.toolCallId, next.args, { reasoning: said.join(''), ...(input ? { input } : {}), model: await modelIdOf(agent) });
      // Policy first: allow and deny come back at once; only a person's decision is waited for.
      let d = await askFor(options.gate, call, options);
      if (d.kind === 'pending' && options.pending === 'suspend') {
        return { output: stream, runId, suspended: { runId, toolCallId: next.toolCallId, toolName: next.toolName, escalationId: d.escalationId } };
      }
      if (d.kind === 'pending') d = await waitFor(options.gate, call, options);
      // One suspended call at a time (requireToolApproval runs tool calls in order); the next one surfaces in the resumed stream.
      stream = await answer(agent, { runId, toolCallId: next.toolCallId, toolName: next.toolName }, d);
      // A declined call never reaches afterToolCall, which forgets an allowed one.
      if (d.kind !== 'allow') runOf.delete(next.toolCallId);
    }
  }

  return {
    hooks,
    streamOptions,
    drive: (agent, stream, opts = {}) => follow(agent, stream, opts.input, opts.onChunk),
    async resume(agent, call, opts = {}) {
      runOf.set(call.toolCallId, call.runId);
      const d = await waitFor(options.gate, callOf(call.toolName, call.toolCallId, {}), options);
      return follow(agent, await answer(agent, call, d), undefined, opts.onChunk);
    },
  };
}

/** The tool-call id Mastra gives a tool's execution context (and so the hooks). */
function toolCallIdOf(context: unknown): string {
  const c = context as { toolCallId?: unknown; agent?: { toolCallId?: unknown } } | undefined;
  const id = c?.toolCallId ?? c?.agent?.toolCallId;
  if (typeof id !== 'string' || !id) throw new CountersignError(ErrorCode.Config, 'countersign/mastra: the tool context has no toolCallId; use the hooks on agent tool calls');
  return id;
}

async function modelIdOf(agent: AnyAgent): Promise<string | undefined> {
  try {
    const m = (await agent.getModel()) as { modelId?: unknown; provider?: unknown };
    return typeof m.modelId === 'string' ? (typeof m.provider === 'string' ? `${m.provider}/${m.modelId}` : m.modelId) : undefined;
  } catch {
    // A model chosen per request (a function of the request context): the identity's model applies.
    return undefined;
  }
}
