import { randomUUID } from 'node:crypto';
import type { ModelMessage, ToolApprovalResponse, ToolApprovalStatus, ToolModelMessage, ToolSet } from 'ai';
import { NotApprovedError } from '../errors.js';
import { askFor, decide, reportOutcome, waitFor, type GatedOptions, type Gate, type ToolDecision } from './gate.js';
import type { AdapterOptions, ToolCall } from './tool-call.js';

/**
 * Countersign for the Vercel AI SDK (`ai` 7): the SDK's `toolApproval` hook
 * asks Countersign about every tool call, and each tool's `execute` reports
 * its outcome after it ran.
 *
 *   const cs = withCountersign(tools, { gate: client, agent: { id: 'support-agent', owner: 'U0…' } });
 *   await generateText({ model, ...cs, prompt, stopWhen: isStepCount(5) });
 *
 * allow → the tool runs; deny → the model reads the rule's (or the person's)
 * reason as the denied tool result; pending → held until a person decides
 * (`pending: 'wait'`, the default), or returned as a `tool-approval-request`
 * to answer later with `countersignResponses` (`pending: 'suspend'`).
 */

export type { Gate, GatedOptions, ToolDecision } from './gate.js';
export type { AdapterOptions, AgentIdentity, ToolPolicyMapping } from './tool-call.js';

/**
 * `executionId` defaults to a new UUID per `withCountersign` call, so make one
 * per run or pass your own id. `pending: 'suspend'`: the call returns a
 * `tool-approval-request`; `countersignResponses` answers it once decided, and
 * the next `generateText` runs or refuses the tool.
 */
export type AiSdkOptions = GatedOptions;

/** The part of the SDK's approval-function argument this adapter reads. */
interface ApprovalArgs {
  toolCall: { toolName: string; toolCallId: string; input: unknown };
  messages: ModelMessage[];
}

type Settled = Required<Pick<AiSdkOptions, 'executionId'>> & AiSdkOptions;

/** Text of a message's content: the string, or its text parts joined. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p: { type?: string; text?: unknown }) => (p.type === 'text' && typeof p.text === 'string' ? p.text : ''))
    .filter(Boolean)
    .join('\n');
}

/**
 * The tool call as Countersign reads it. The user's last message is the
 * trigger; what the model said since then (earlier steps) is its reasoning.
 * The SDK does not show the approval hook the text of the step that made
 * the call itself: add it with `enrich` if you keep it.
 */
function callOf(opts: Settled, toolName: string, toolCallId: string, input: unknown, messages: readonly ModelMessage[]): ToolCall {
  let lastUser = messages.length - 1;
  while (lastUser >= 0 && messages[lastUser]!.role !== 'user') lastUser--;
  const said = messages
    .slice(lastUser + 1)
    .filter((m) => m.role === 'assistant')
    .map((m) => textOf(m.content))
    .filter(Boolean)
    .join('\n');
  return {
    toolName,
    toolCallId,
    args: input,
    executionId: opts.executionId,
    ...(lastUser >= 0 ? { input: textOf(messages[lastUser]!.content) } : {}),
    ...(said ? { reasoning: said } : {}),
  };
}

function statusOf(d: ToolDecision): ToolApprovalStatus {
  if (d.kind === 'allow') return { type: 'approved', reason: `Countersign allowed it (escalation ${d.escalationId}).` };
  if (d.kind === 'deny') return { type: 'denied', reason: d.reason };
  return { type: 'user-approval', reason: `Waiting for a person in Slack (Countersign escalation ${d.escalationId}).` };
}

/** After waiting: only an allow runs; anything still undecided is a refusal (a replayed approval must not pass). */
function settled(d: ToolDecision): ToolApprovalStatus {
  return d.kind === 'pending' ? { type: 'denied', reason: `Countersign has not approved this call (escalation ${d.escalationId}).` } : statusOf(d);
}

/** True when `messages` already answer an approval request for this tool call: the SDK is replaying an approval. */
function isReplay(toolCallId: string, messages: readonly ModelMessage[]): boolean {
  const approvalIds = new Set<string>();
  for (const m of messages) {
    if (m.role !== 'assistant' || typeof m.content === 'string') continue;
    for (const p of m.content) if (p.type === 'tool-approval-request' && p.toolCallId === toolCallId) approvalIds.add(p.approvalId);
  }
  return messages.some((m) => m.role === 'tool' && m.content.some((p) => p.type === 'tool-approval-response' && approvalIds.has(p.approvalId)));
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === 'object' && v !== null && Symbol.asyncIterator in v;
}

type AnyExecute = (input: unknown, options: { toolCallId: string; messages: ModelMessage[] }) => unknown;

/**
 * `execute` that runs only on Countersign's allow, then reports the outcome.
 * The check repeats the hook's (same escalation, answered from its record in
 * milliseconds), so a tool set passed without `toolApproval` still never runs
 * an action nobody approved; the model then reads the refusal as the error.
 */
function guarded(opts: Settled, toolName: string, execute: AnyExecute): AnyExecute {
  return async (input, options) => {
    const call = callOf(opts, toolName, options.toolCallId, input, options.messages);
    const d = await decide(opts.gate, call, opts);
    if (d.kind !== 'allow') throw new NotApprovedError(d.kind === 'deny' ? d.reason : `Countersign has not approved ${toolName}.`);
    let result: unknown;
    try {
      result = await execute(input, options);
    } catch (err) {
      await reportOutcome(opts.gate, call, opts, { success: false, error: err });
      throw err;
    }
    if (!isAsyncIterable(result)) {
      await reportOutcome(opts.gate, call, opts, { success: true, output: result });
      return result;
    }
    // A streaming tool: its last value is the output the model reads.
    const stream = result;
    return (async function* () {
      let last: unknown;
      try {
        for await (const v of stream) yield (last = v);
      } catch (err) {
        await reportOutcome(opts.gate, call, opts, { success: false, error: err });
        throw err;
      }
      await reportOutcome(opts.gate, call, opts, { success: true, output: last });
    })();
  };
}

/**
 * Wraps a tool set: spread the result into `generateText`, `streamText` or a
 * `ToolLoopAgent` (`tools` and `toolApproval`). Tools without `execute`
 * (answered by your client) are left as they are.
 */
export function withCountersign<TOOLS extends ToolSet>(
  tools: TOOLS,
  options: AiSdkOptions,
): { tools: TOOLS; toolApproval: (args: ApprovalArgs) => Promise<ToolApprovalStatus> } {
  const opts: Settled = { ...options, executionId: options.executionId ?? randomUUID() };
  const wrapped = Object.fromEntries(
    Object.entries(tools).map(([name, t]) => {
      const execute = (t as { execute?: AnyExecute }).execute;
      return [name, execute ? { ...t, execute: guarded(opts, name, execute) } : t];
    }),
  ) as TOOLS;

  const toolApproval = async ({ toolCall, messages }: ApprovalArgs): Promise<ToolApprovalStatus> => {
    const call = callOf(opts, toolCall.toolName, toolCall.toolCallId, toolCall.input, messages);
    const first = await askFor(opts.gate, call, opts);
    if (first.kind !== 'pending') return statusOf(first);
    // The SDK re-runs this hook before it executes an approval it finds in the
    // messages; that approval counts only as Countersign's recorded decision.
    if (opts.pending === 'suspend' && !isReplay(toolCall.toolCallId, messages)) return statusOf(first);
    return settled(await waitFor(opts.gate, call, opts));
  };

  return { tools: wrapped, toolApproval };
}

interface PendingRequest {
  approvalId: string;
  toolCallId: string;
  toolName: string;
}

/** Open (not automatic, not yet answered) approval requests in a result's `content` or in saved `messages`. */
function openRequests(parts: ReadonlyArray<unknown>): PendingRequest[] {
  const names = new Map<string, string>();
  const requests: PendingRequest[] = [];
  const answered = new Set<string>();
  const visit = (p: Record<string, unknown>) => {
    if (p.type === 'tool-call' && typeof p.toolCallId === 'string' && typeof p.toolName === 'string') names.set(p.toolCallId, p.toolName);
    if (p.type === 'tool-approval-response' && typeof p.approvalId === 'string') answered.add(p.approvalId);
    if (p.type === 'tool-approval-request' && p.isAutomatic !== true && typeof p.approvalId === 'string') {
      const inner = p.toolCall as { toolCallId?: string; toolName?: string } | undefined;
      const toolCallId = (p.toolCallId as string | undefined) ?? inner?.toolCallId;
      if (toolCallId) requests.push({ approvalId: p.approvalId, toolCallId, toolName: inner?.toolName ?? '' });
    }
  };
  for (const item of parts as Array<Record<string, unknown>>) {
    if (Array.isArray(item.content) && typeof item.role === 'string') for (const p of item.content as Array<Record<string, unknown>>) visit(p);
    else visit(item);
  }
  return requests
    .filter((r) => !answered.has(r.approvalId))
    .map((r) => ({ ...r, toolName: r.toolName || names.get(r.toolCallId) || 'tool' }));
}

/**
 * For `pending: 'suspend'`: waits (up to `waitMs`) for Countersign's decision
 * on each open approval request and returns the tool message that answers
 * them, to append before the next `generateText`; `undefined` when nothing
 * is open. Pass `result.content`, or the saved messages after a restart.
 */
export async function countersignResponses(
  parts: ReadonlyArray<unknown>,
  options: Pick<AiSdkOptions, 'gate' | 'agent' | 'waitMs'>,
): Promise<ToolModelMessage | undefined> {
  const open = openRequests(parts);
  if (open.length === 0) return undefined;
  const content: ToolApprovalResponse[] = [];
  for (const r of open) {
    // waitFor needs only the agent and the tool-call id: the escalation already exists.
    const d = await waitFor(options.gate, { toolName: r.toolName, toolCallId: r.toolCallId, args: {}, executionId: r.toolCallId }, { agent: options.agent, waitMs: options.waitMs });
    content.push({ type: 'tool-approval-response', approvalId: r.approvalId, approved: d.kind === 'allow', ...(d.kind === 'deny' ? { reason: d.reason } : {}) });
  }
  return { role: 'tool', content };
}
