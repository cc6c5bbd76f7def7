import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ToolListChangedNotificationSchema, type CallToolResult, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { stringify } from 'yaml';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamServer, type ToolRun } from '../../../examples/mcp/upstream-server.js';
import { escalationIdOf } from '../../../src/adapters/tool-call.js';
import { IDEMPOTENCY_META_KEY, parseGatewayConfig, startGateway, type RunningGateway } from '../../../src/adapters/mcp-gateway/index.js';
import { withBotAndCallbacks } from '../../support/bot-hooks.js';
import { APPROVER, OWNER, REFUNDS_CHANNEL, SIGNING_SECRET, type Harness } from '../../support/harness.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from '../../support/slack-signing.js';
import { REDIS_URL, eventually } from '../../support/services.js';

/**
 * The gateway between a real MCP client and a real MCP server (both the
 * SDK's), in front of the real bot: over stdio (the CLI as a child, its
 * upstream a grandchild) and over Streamable HTTP (in this process, its
 * upstream served over Streamable HTTP too). The example config's
 * support-agent: crm.read is autonomous, a refund over $500 needs a person,
 * one over $5,000 is denied by policy.
 */

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const UPSTREAM = join(ROOT, 'examples/mcp/upstream-server.ts');
const AGENT = 'support-agent';
const TOKEN = 'mcp-test-token-0123456789';
const OTHER_TOKEN = 'mcp-other-token-0123456789';

let h: Harness;
withBotAndCallbacks((bot) => ({ h } = bot));

const gatewayConfig = (extra: Record<string, unknown>) => ({
  agent: { id: AGENT, name: 'Support Agent (MCP)', owner: OWNER, model: 'scripted' },
  tools: {
    lookup_order: { type: 'crm.read', reversible: true, issueType: 'support' },
    refund: { type: 'payments.refund', issueType: 'refund', summary: 'Refund {amountUsd} USD for order #{orderId}' },
  },
  approval: { waitSeconds: 60, progressSeconds: 0.05 },
  ...extra,
});

interface Connected {
  client: Client;
  /** What the upstream server actually ran. */
  runs(): ToolRun[];
  close(): Promise<void>;
}

/** The CLI (`countersign mcp-gateway --config …`) as the client's stdio child, its upstream the example server on stdio. */
async function overStdio(): Promise<Connected> {
  const dir = join(tmpdir(), `mcp-gw-${randomUUID()}`);
  const log = `${dir}.runs.jsonl`;
  writeFileSync(log, '');
  const configFile = `${dir}.yml`;
  writeFileSync(configFile, stringify(gatewayConfig({ serve: 'stdio', upstream: { command: process.execPath, args: ['--import', 'tsx', UPSTREAM, '--log', log], cwd: ROOT } })));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'src/cli/countersign.ts', 'mcp-gateway', '--config', configFile],
    cwd: ROOT,
    env: { ...getDefaultEnvironment(), REDIS_URL, COUNTERSIGN_QUEUE_PREFIX: h.prefix },
    stderr: 'inherit',
  });
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    runs: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ToolRun),
    close: () => client.close(),
  };
}

/** The gateway in this process serving Streamable HTTP, its upstream the example server over Streamable HTTP. */
async function overHttp(token = TOKEN): Promise<Connected & { gateway: RunningGateway; upstream: McpServer; transport: StreamableHTTPClientTransport; connect(token: string): Promise<Client> }> {
  const ran: ToolRun[] = [];
  const upstream = createUpstreamServer((r) => ran.push(r));
  const upstreamTransport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
  await upstream.connect(upstreamTransport);
  const upstreamHttp: HttpServer = createServer((req, res) => void upstreamTransport.handleRequest(req, res));
  await new Promise<void>((r) => upstreamHttp.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${(upstreamHttp.address() as AddressInfo).port}/mcp`;
  const config = parseGatewayConfig(
    stringify(
      gatewayConfig({
        serve: 'http',
        agent: undefined,
        upstream: { url: upstreamUrl },
        http: {
          port: 0,
          clients: [
            { token: TOKEN, agent: { id: AGENT, owner: OWNER, model: 'scripted' } },
            { token: OTHER_TOKEN, agent: { id: AGENT, owner: OWNER, model: 'other' } },
          ],
        },
      }),
    ),
    'test gateway config',
    {},
  );
  const gateway = await startGateway(config, h.client);
  const clients: Client[] = [];
  const connect = async (t: string) => {
    const c = new Client({ name: 'test-agent', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(gateway.url!), { requestInit: { headers: { authorization: `Bearer ${t}` } } }));
    clients.push(c);
    return c;
  };
  const client = await connect(token);
  return {
    client,
    gateway,
    upstream,
    transport: client.transport as StreamableHTTPClientTransport,
    connect,
    runs: () => ran,
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await gateway.close();
      await upstream.close();
      upstreamHttp.closeAllConnections();
      await new Promise<void>((r) => upstreamHttp.close(() => r()));
    },
  };
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
const keyed = (key: string) => ({ [IDEMPOTENCY_META_KEY]: key });
const cardsFor = (id: string) => h.fake.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args).includes(id));

async function outcomeOf(id: string) {
  return eventually(async () => (await h.sql<Array<{ success: boolean; output: string | null; error: string | null }>>`select success, output, error from outcomes where escalation_id = ${id}`)[0], `the outcome of ${id}`, 20_000);
}

function submitDeny(card: { blocks?: unknown[] }, reason: string) {
  const value = (card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>).flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'countersign.deny')!.value;
  const [id, digest] = value.split(':');
  const payload = viewSubmissionPayload({
    userId: APPROVER,
    callbackId: 'countersign.deny_reason',
    privateMetadata: JSON.stringify({ id, digest, channel: REFUNDS_CHANNEL }),
    values: { reason: { reason_input: reason } },
  });
  return postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
}

describe.each([
  ['stdio', overStdio],
  ['Streamable HTTP', overHttp],
] as const)('the MCP gateway over %s', (_name, connect) => {
  let c: Connected;
  beforeAll(async () => {
    c = await connect();
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it('lists the upstream server’s tools as it lists them', async () => {
    const direct = new Client({ name: 'direct', version: '1.0.0' });
    const [a, b] = (await import('@modelcontextprotocol/sdk/inMemory.js')).InMemoryTransport.createLinkedPair();
    await createUpstreamServer().connect(b);
    await direct.connect(a);
    expect((await c.client.listTools()).tools).toEqual((await direct.listTools()).tools);
    await direct.close();
  });

  it('forwards an autonomous call at once, without a card, and reports its outcome to the audit trail', async () => {
    const key = randomUUID();
    const result = (await c.client.callTool({ name: 'lookup_order', arguments: { orderId: '4521' }, _meta: keyed(key) })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('Order 4521: delivered, 340.00 USD, paid by card');
    const id = escalationIdOf(AGENT, `key:${key}`);
    expect(await outcomeOf(id)).toMatchObject({ success: true, output: 'Order 4521: delivered, 340.00 USD, paid by card' });
    const [row] = await h.sql`select status, action_type from escalations where id = ${id}`;
    expect(row).toMatchObject({ action_type: 'crm.read' });
    expect(cardsFor(id)).toEqual([]);
  });

  it('holds a call that needs approval, tells the client it is waiting, and forwards it once a person approves in Slack', async () => {
    const key = randomUUID();
    const id = escalationIdOf(AGENT, `key:${key}`);
    const progress: Progress[] = [];
    const call = c.client.callTool({ name: 'refund', arguments: { orderId: '4521', amountUsd: 800 }, _meta: keyed(key) }, undefined, {
      onprogress: (p) => progress.push(p),
      resetTimeoutOnProgress: true,
    }) as Promise<CallToolResult>;
    const card = await h.card(id);
    expect(JSON.stringify(card.blocks)).toContain('Refund 800 USD for order #4521');
    await eventually(async () => (progress.length > 0 ? true : undefined), 'a progress notification');
    expect(progress[0]!.message).toContain(`Waiting for approval in Slack (escalation ${id}`);
    expect(c.runs().filter((r) => r.tool === 'refund')).toEqual([]);
    expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe('Refunded 800.00 USD for order 4521');
    expect(c.runs()).toContainEqual({ tool: 'refund', args: { orderId: '4521', amountUsd: 800 } });
    expect(await outcomeOf(id)).toMatchObject({ success: true, output: 'Refunded 800.00 USD for order 4521' });
    const [row] = await h.sql`select status from escalations where id = ${id}`;
    expect(row).toMatchObject({ status: 'approved' });
  });

  it('returns a person’s denial to the model as a tool error with their reason, and never runs the tool', async () => {
    const key = randomUUID();
    const id = escalationIdOf(AGENT, `key:${key}`);
    const call = c.client.callTool({ name: 'refund', arguments: { orderId: '7001', amountUsd: 900 }, _meta: keyed(key) }) as Promise<CallToolResult>;
    const card = await h.card(id);
    expect((await submitDeny(card, 'the customer was already refunded')).status).toBe(200);
    const result = await call;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('Countersign did not approve refund: the customer was already refunded.');
    expect(c.runs().filter((r) => r.args.orderId === '7001')).toEqual([]);
  });

  it('returns a policy denial with the rule’s reason at once, without a card', async () => {
    const key = randomUUID();
    const result = (await c.client.callTool({ name: 'refund', arguments: { orderId: '9', amountUsd: 6000 }, _meta: keyed(key) })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('refunds over $5,000 go through finance, not agents');
    expect(cardsFor(escalationIdOf(AGENT, `key:${key}`))).toEqual([]);
    expect(c.runs().filter((r) => r.args.orderId === '9')).toEqual([]);
  });

  it('treats a retry with the same idempotency key as the same call: one card, one run, the same result', async () => {
    const key = randomUUID();
    const id = escalationIdOf(AGENT, `key:${key}`);
    const params = { name: 'refund', arguments: { orderId: '5150', amountUsd: 700 }, _meta: keyed(key) };
    const first = c.client.callTool(params) as Promise<CallToolResult>;
    const card = await h.card(id);
    await h.click(APPROVER, 'countersign.approve', card);
    expect(textOf(await first)).toBe('Refunded 700.00 USD for order 5150');
    const again = (await c.client.callTool(params)) as CallToolResult;
    expect(textOf(again)).toBe('Refunded 700.00 USD for order 5150');
    expect(cardsFor(id)).toHaveLength(1);
    expect(c.runs().filter((r) => r.args.orderId === '5150')).toHaveLength(1);
  });
});

describe('the MCP gateway over Streamable HTTP, per client', () => {
  let c: Awaited<ReturnType<typeof overHttp>>;
  beforeAll(async () => {
    c = await overHttp();
  }, 60_000);
  afterAll(async () => {
    await c?.close();
  });

  it('refuses a client without a known bearer token', async () => {
    const res = await fetch(c.gateway.url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: 'Bearer not-a-client-token-xx' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(res.status).toBe(401);
  });

  it('refuses a session opened with another client’s token', async () => {
    const res = await fetch(c.gateway.url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${OTHER_TOKEN}`, 'mcp-session-id': c.transport.sessionId! },
      body: JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' }),
    });
    expect(res.status).toBe(403);
  });

  it('names the client’s own agent identity on the escalation', async () => {
    const other = await c.connect(OTHER_TOKEN);
    const key = randomUUID();
    await other.callTool({ name: 'lookup_order', arguments: { orderId: '1' }, _meta: keyed(key) });
    const [row] = await h.sql<Array<{ escalation: { agent: { model: string } } }>>`select request as escalation from escalations where id = ${escalationIdOf(AGENT, `key:${key}`)}`;
    expect(row?.escalation.agent.model).toBe('other');
  });

  it('derives the call from the session and request id without a key: a retry with a new request id is a new call', async () => {
    const params = { name: 'lookup_order', arguments: { orderId: 'no-key' } };
    await c.client.callTool(params);
    await c.client.callTool(params);
    const rows = await h.sql`select id from escalations where execution_id = ${`mcp:${c.transport.sessionId}`} and request->'action'->'params'->>'orderId' = 'no-key'`;
    expect(rows).toHaveLength(2);
  });

  it('tells its clients when the upstream’s tool list changes, and then lists the new tool', async () => {
    const changed = new Promise<void>((resolve) => c.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    c.upstream.registerTool('cancel_order', { description: 'Cancels an order.', inputSchema: { orderId: z.string() } }, () => ({ content: [] }));
    await changed;
    expect((await c.client.listTools()).tools.map((t) => t.name)).toContain('cancel_order');
  });
});
