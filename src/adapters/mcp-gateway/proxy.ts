import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  ToolListChangedNotificationSchema,
  type CallToolRequest,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { askFor, denialText, reportOutcome, waitFor, type Gate, type ToolDecision } from '../gate.js';
import type { AdapterOptions, AgentIdentity, ToolCall } from '../tool-call.js';
import type { GatewayConfig } from './config.js';

/**
 * The MCP gateway: an MCP server to its clients, an MCP client to one
 * upstream server. Tools are listed as the upstream lists them; every
 * `tools/call` is asked of Countersign first. Allowed calls are forwarded and
 * their outcome reported; refused ones come back as a tool error
 * (`isError: true`) whose text is the reason, so the model reads it.
 */

export const GATEWAY_NAME = 'countersign-mcp-gateway';
export const GATEWAY_VERSION = '0.1.0';

/**
 * `_meta` key a client may set to make a retry the same call (one card, one
 * run): the tool-call id is then this key, per agent, instead of the
 * session id and JSON-RPC request id.
 */
export const IDEMPOTENCY_META_KEY = 'countersign/idempotencyKey';

/** Forwarded results kept per gateway process, so a retry with the same key does not run the tool twice. */
const MAX_REMEMBERED_CALLS = 1000;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Connects to the configured upstream MCP server (a child on stdio, or Streamable HTTP). */
export async function connectUpstream(upstream: GatewayConfig['upstream']): Promise<Client> {
  const client = new Client({ name: GATEWAY_NAME, version: GATEWAY_VERSION }, { capabilities: {} });
  const transport = upstream.command
    ? new StdioClientTransport({ command: upstream.command, args: upstream.args, env: upstream.env, ...(upstream.cwd ? { cwd: upstream.cwd } : {}), stderr: 'inherit' })
    : new StreamableHTTPClientTransport(new URL(upstream.url!), { requestInit: { headers: upstream.headers } });
  await client.connect(transport);
  return client;
}

/** The tool-call id the escalation id derives from: the client's idempotency key, else session + request id. */
export function toolCallIdOf(sessionId: string, requestId: string | number, meta: Record<string, unknown> | undefined): string {
  const key = meta?.[IDEMPOTENCY_META_KEY];
  if (typeof key === 'string' && key.trim()) return `key:${key}`;
  return `mcp:${sessionId}:${typeof requestId}:${String(requestId)}`;
}

/** The text a tool result carries, for the outcome report. */
function textOfResult(result: CallToolResult): string {
  const texts = result.content.filter((c) => c.type === 'text').map((c) => c.text);
  if (texts.length) return texts.join('\n');
  return JSON.stringify(result.structuredContent ?? result.content);
}

function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export interface GatewayOptions {
  config: Pick<GatewayConfig, 'tools' | 'waitMs' | 'progressMs' | 'confidence' | 'upstream'>;
  gate: Gate;
  upstream: Client;
  /** For a gateway embedded in your own process: add reasoning, labels or a callback to each escalation (AdapterOptions.enrich). */
  enrich?: AdapterOptions['enrich'];
  /** Told about failures the client cannot see (an outcome report that did not go out). Default: stderr. */
  warn?: (line: string) => void;
}

export class McpGateway {
  readonly #opts: GatewayOptions;
  readonly #sessions = new Set<Server>();
  /** Escalation id → the upstream call's result, in flight or done. */
  readonly #forwarded = new Map<string, Promise<CallToolResult>>();

  constructor(opts: GatewayOptions) {
    this.#opts = opts;
    // The upstream's tool list changed: every connected client is told, and lists again through us.
    opts.upstream.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      await Promise.all([...this.#sessions].map((s) => s.sendToolListChanged().catch(() => {})));
    });
  }

  /** One MCP server for one client session; `sessionId` scopes its request ids. Connect it to the client's transport. */
  session(agent: AgentIdentity, sessionId: string): Server {
    const upstream = this.#opts.upstream;
    const server = new Server(
      { name: GATEWAY_NAME, version: GATEWAY_VERSION },
      { capabilities: { tools: { listChanged: true } }, ...(upstream.getInstructions() ? { instructions: upstream.getInstructions() } : {}) },
    );
    server.setRequestHandler(ListToolsRequestSchema, (req) => upstream.listTools(req.params));
    server.setRequestHandler(CallToolRequestSchema, (req, extra) => this.#call(agent, sessionId, req, extra));
    this.#sessions.add(server);
    server.onclose = () => this.#sessions.delete(server);
    return server;
  }

  async #call(agent: AgentIdentity, sessionId: string, req: CallToolRequest, extra: Extra): Promise<CallToolResult> {
    const { config, gate } = this.#opts;
    const meta = req.params._meta as Record<string, unknown> | undefined;
    const call: ToolCall = {
      toolName: req.params.name,
      toolCallId: toolCallIdOf(sessionId, extra.requestId, meta),
      args: req.params.arguments ?? {},
      // Budgets count per execution: one client session is one run.
      executionId: `mcp:${sessionId}`,
    };
    const opts: AdapterOptions = { agent, tools: config.tools, confidence: config.confidence, waitMs: config.waitMs, ...(this.#opts.enrich ? { enrich: this.#opts.enrich } : {}) };
    const progress = new Progress(extra, meta?.progressToken as string | number | undefined);
    let decision: ToolDecision;
    try {
      decision = await askFor(gate, call, opts);
      if (decision.kind === 'pending') {
        const escalationId = decision.escalationId;
        const stop = progress.every(config.progressMs, (s) => `Waiting for approval in Slack (escalation ${escalationId}, ${s} s so far)`);
        try {
          decision = await untilAborted(waitFor(gate, call, opts), extra.signal);
        } finally {
          stop();
        }
      }
    } catch (err) {
      if (extra.signal.aborted) throw err;
      // Countersign did not answer (Redis down, the bot not running): fail closed, and say so to the model.
      return { content: [{ type: 'text', text: denialText(call.toolName, `Countersign could not be asked (${(err as Error).message}); the call was not run`, 'unavailable') }], isError: true };
    }
    if (decision.kind === 'deny') return { content: [{ type: 'text', text: decision.reason }], isError: true };
    if (decision.kind === 'pending') throw new Error('unreachable: waitFor ends allowed or refused');
    // Only a client's idempotency key can repeat a call; a request-id call is never asked twice, so its result is not kept.
    const remember = call.toolCallId.startsWith('key:');
    return this.#forward(decision.escalationId, remember, req, extra, progress, async (outcome) => {
      try {
        await reportOutcome(gate, call, opts, outcome);
      } catch (err) {
        (this.#opts.warn ?? ((l) => process.stderr.write(`${l}\n`)))(`countersign mcp-gateway: outcome of ${call.toolName} not reported: ${(err as Error).message}`);
      }
    });
  }

  /** Runs the approved call upstream once per escalation; a retry of the same call gets the same result. */
  #forward(escalationId: string, remember: boolean, req: CallToolRequest, extra: Extra, progress: Progress, report: (o: Parameters<typeof reportOutcome>[3]) => Promise<void>): Promise<CallToolResult> {
    const known = remember ? this.#forwarded.get(escalationId) : undefined;
    if (known) return known;
    const { progressToken: _theirs, [IDEMPOTENCY_META_KEY]: _key, ...meta } = (req.params._meta ?? {}) as Record<string, unknown>;
    const params = { name: req.params.name, arguments: req.params.arguments, ...(Object.keys(meta).length ? { _meta: meta } : {}) };
    const run = (async () => {
      let result: CallToolResult;
      try {
        result = (await this.#opts.upstream.callTool(params, undefined, {
          signal: extra.signal,
          timeout: this.#opts.config.upstream.timeoutSeconds * 1000,
          resetTimeoutOnProgress: true,
          ...(progress.active ? { onprogress: (p) => progress.relay(p.progress, p.total, p.message) } : {}),
        })) as CallToolResult;
      } catch (err) {
        await report({ success: false, error: err });
        throw err;
      }
      await report(result.isError ? { success: false, error: textOfResult(result) } : { success: true, output: textOfResult(result) });
      return result;
    })();
    if (!remember) return run;
    this.#forwarded.set(escalationId, run);
    // A call that failed to run may be tried again; the oldest results are forgotten first.
    run.catch(() => this.#forwarded.delete(escalationId));
    if (this.#forwarded.size > MAX_REMEMBERED_CALLS) this.#forwarded.delete(this.#forwarded.keys().next().value!);
    return run;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#sessions].map((s) => s.close().catch(() => {})));
    await this.#opts.upstream.close();
  }
}

/**
 * Progress notifications for one call, when the client asked for them
 * (`_meta.progressToken`). Progress must only increase: waiting counts
 * 1, 2, 3…, and the upstream tool's own progress is relayed on top of that.
 */
class Progress {
  #sent = 0;
  #base = 0;
  constructor(
    private readonly extra: Extra,
    private readonly token: string | number | undefined,
  ) {}

  get active(): boolean {
    return this.token !== undefined;
  }

  #send(progress: number, total?: number, message?: string): void {
    if (this.token === undefined || progress <= this.#sent) return;
    this.#sent = progress;
    void this.extra
      .sendNotification({ method: 'notifications/progress', params: { progressToken: this.token, progress, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) } })
      .catch(() => {});
  }

  /** Sends one now and one every `ms` until the returned stop is called. */
  every(ms: number, message: (seconds: number) => string): () => void {
    if (!this.active) return () => {};
    const started = performance.now();
    const tick = () => this.#send(this.#sent + 1, undefined, message(Math.round((performance.now() - started) / 1000)));
    tick();
    const timer = setInterval(tick, ms);
    return () => {
      clearInterval(timer);
      this.#base = this.#sent;
    };
  }

  relay(progress: number, total: number | undefined, message: string | undefined): void {
    this.#send(this.#base + progress, total === undefined ? undefined : this.#base + total, message);
  }
}
