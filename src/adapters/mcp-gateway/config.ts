import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../config/env.js';
import { actionSchema, agentSchema, slackUserId, urgencySchema } from '../../domain/escalation.js';
import { describeErrors, fieldErrors, requiredMessage } from '../../domain/validation.js';
import type { AgentIdentity, ToolPolicyMapping } from '../tool-call.js';

/**
 * The MCP gateway's own config file (`countersign mcp-gateway --config gw.yml`,
 * YAML or JSON): which MCP server it fronts, how clients reach it, who each
 * client is, and how each tool maps onto policy. Redis and the queue prefix
 * come from the environment, as for the bot (REDIS_URL, COUNTERSIGN_QUEUE_PREFIX).
 */

/** Who a client is: the escalation's `agent`, with the card's defaults for what MCP does not say. */
const agentIdentity = z.object({
  id: agentSchema.shape.id,
  name: agentSchema.shape.name.optional(),
  owner: slackUserId,
  model: agentSchema.shape.model.optional(),
  modelVersion: agentSchema.shape.modelVersion.optional(),
  promptVersion: agentSchema.shape.promptVersion.optional(),
  toolVersions: z.record(z.string().max(100), z.string().max(100)).optional(),
});

const toolMapping = z.object({
  type: actionSchema.shape.type.optional(),
  reversible: z.boolean().optional(),
  issueType: z.string().min(1).max(100).optional(),
  urgency: urgencySchema.optional(),
  /** The card's headline with `{argument}` placeholders, e.g. `Refund {amountUsd} USD for order {orderId}`. */
  summary: z.string().min(1).max(300).optional(),
});

const upstream = z
  .object({
    /** Stdio: the command that starts the MCP server, with its arguments. */
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    /** Added to the SDK's safe default environment (HOME, PATH, …), not the gateway's whole environment. */
    env: z.record(z.string(), z.string()).default({}),
    /** The stdio server's working directory, relative to the config file's; default that directory. */
    cwd: z.string().min(1).optional(),
    /** Streamable HTTP: the server's endpoint. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    /** Seconds an upstream tool may run (reset by its progress notifications). Default 60, the SDK's. */
    timeoutSeconds: z.number().positive().max(86_400).default(60),
  })
  .superRefine((u, ctx) => {
    if (!u.command === !u.url) ctx.addIssue({ code: 'custom', message: 'give either command (a stdio server) or url (Streamable HTTP), exactly one' });
  });

const httpClient = z
  .object({
    /** The bearer token this client sends; or `tokenEnv`, the environment variable holding it. */
    token: z.string().min(16, 'must be at least 16 characters').optional(),
    tokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').optional(),
    agent: agentIdentity,
  })
  .superRefine((c, ctx) => {
    if (!c.token === !c.tokenEnv) ctx.addIssue({ code: 'custom', message: 'give either token or tokenEnv, exactly one' });
  });

export const gatewayConfigSchema = z
  .object({
    upstream,
    /** `stdio` (default): one client on stdin/stdout, e.g. Claude Desktop. `http`: Streamable HTTP, many clients. */
    serve: z.enum(['stdio', 'http']).default('stdio'),
    /** The stdio client's identity. */
    agent: agentIdentity.optional(),
    http: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        /** 0 picks a free port (printed on stderr). */
        port: z.number().int().min(0).max(65_535).default(8808),
        path: z.string().startsWith('/').default('/mcp'),
        clients: z.array(httpClient).min(1),
      })
      .optional(),
    tools: z.record(z.string(), toolMapping).default({}),
    approval: z
      .object({
        /** Seconds a pending call waits for a person; then it is refused. Default 600. */
        waitSeconds: z.number().positive().max(86_400).default(600),
        /** Seconds between progress notifications while waiting (when the client sent a progressToken). Default 10. */
        progressSeconds: z.number().positive().max(3_600).default(10),
      })
      .prefault({}),
    /** The confidence stated for every call (MCP has none). Default 0.9, above the seed's 0.7 threshold. */
    confidence: z.number().min(0).max(1).default(0.9),
  })
  .superRefine((c, ctx) => {
    if (c.serve === 'stdio' && !c.agent) ctx.addIssue({ code: 'custom', path: ['agent'], message: 'Required when serve is stdio: who the stdio client is' });
    if (c.serve === 'http' && !c.http) ctx.addIssue({ code: 'custom', path: ['http'], message: 'Required when serve is http: host, port and clients' });
  });

export type GatewayConfigFile = z.output<typeof gatewayConfigSchema>;

export interface HttpClientIdentity {
  token: string;
  agent: AgentIdentity;
}

/** The parsed config, tokens resolved and tool summaries turned into functions. */
export interface GatewayConfig {
  upstream: GatewayConfigFile['upstream'];
  serve: 'stdio' | 'http';
  agent?: AgentIdentity;
  http?: { host: string; port: number; path: string; clients: HttpClientIdentity[] };
  tools: Record<string, ToolPolicyMapping>;
  waitMs: number;
  progressMs: number;
  confidence: number;
}

/** `Refund {amountUsd} USD` with `{ amountUsd: 340 }` → `Refund 340 USD`; a missing argument stays as written. */
export function fillSummary(template: string, args: Record<string, unknown>): string {
  return template.replace(/\{([A-Za-z0-9_.-]+)\}/g, (whole, name: string) => {
    const v = args[name];
    if (v === undefined || v === null) return whole;
    return typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean);
  });
}

/**
 * Parses the file's text (`source` names it in errors); a bad value is a
 * ConfigError naming each field, e.g. `gw.yml: http.clients[0].agent.owner:
 * must be a Slack user id like U0123ABCD`. `env` resolves `tokenEnv`;
 * the upstream command runs in `baseDir` (default: the file's directory),
 * so a config works whatever directory the client starts the gateway from.
 */
export function parseGatewayConfig(text: string, source: string, env: Record<string, string | undefined>, baseDir = dirname(resolve(source))): GatewayConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source}: not YAML or JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const result = gatewayConfigSchema.safeParse(raw ?? {}, { error: requiredMessage });
  if (!result.success) throw new ConfigError(`${source}: ${describeErrors(fieldErrors(result.error))}`);
  const c = result.data;
  const clients = (c.http?.clients ?? []).map((client, i) => {
    const token = client.token ?? env[client.tokenEnv!];
    if (!token) throw new ConfigError(`${source}: http.clients[${i}].tokenEnv: ${client.tokenEnv} is not set`);
    if (token.length < 16) throw new ConfigError(`${source}: http.clients[${i}].tokenEnv: ${client.tokenEnv} must be at least 16 characters`);
    return { token, agent: client.agent };
  });
  const seen = new Set<string>();
  clients.forEach((client, i) => {
    if (seen.has(client.token)) throw new ConfigError(`${source}: http.clients[${i}]: the same token as an earlier client; each client needs its own`);
    seen.add(client.token);
  });
  const tools = Object.fromEntries(
    Object.entries(c.tools).map(([name, { summary, ...m }]) => [name, { ...m, ...(summary ? { summary: (args: Record<string, unknown>) => fillSummary(summary, args) } : {}) }]),
  );
  return {
    upstream: c.upstream.command ? { ...c.upstream, cwd: resolve(baseDir, c.upstream.cwd ?? '.') } : c.upstream,
    serve: c.serve,
    ...(c.agent ? { agent: c.agent } : {}),
    ...(c.http ? { http: { host: c.http.host, port: c.http.port, path: c.http.path, clients } } : {}),
    tools,
    waitMs: c.approval.waitSeconds * 1000,
    progressMs: c.approval.progressSeconds * 1000,
    confidence: c.confidence,
  };
}
