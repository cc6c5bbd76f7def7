import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { AgentIdentity } from '../tool-call.js';
import type { HttpClientIdentity } from './config.js';
import type { McpGateway } from './proxy.js';

/**
 * The gateway over Streamable HTTP (stateful: one session per client
 * connection). Every request carries `Authorization: Bearer <token>`; the
 * token says which agent the client is, and a session is only ever used
 * with the token that opened it.
 */

/** Bodies above this are refused (413) before parsing: 4 MiB, the SDK's own default. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

interface Session {
  transport: StreamableHTTPServerTransport;
  agent: AgentIdentity;
}

function jsonRpcError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw Object.assign(new Error('Parse error: the body is not JSON'), { status: 400 });
  }
}

export interface HttpGateway {
  url: string;
  close(): Promise<void>;
}

export async function serveHttp(gateway: McpGateway, opts: { host: string; port: number; path: string; clients: HttpClientIdentity[] }): Promise<HttpGateway> {
  const known = opts.clients.map((c) => ({ digest: digest(c.token), agent: c.agent }));
  const sessions = new Map<string, Session>();

  /** The agent whose token this is, compared in constant time over every client. */
  const agentOf = (req: IncomingMessage): AgentIdentity | undefined => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    const d = digest(m[1]!);
    let found: AgentIdentity | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, d)) found = k.agent;
    return found;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (new URL(req.url ?? '/', 'http://gateway').pathname !== opts.path) return jsonRpcError(res, 404, `Not found: the MCP endpoint is ${opts.path}`);
    const agent = agentOf(req);
    if (!agent) return jsonRpcError(res, 401, 'Unauthorized: send Authorization: Bearer <token> of a client in the gateway config', { 'www-authenticate': 'Bearer' });
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = sessions.get(sessionId);
      if (!session) return jsonRpcError(res, 404, 'Session not found: initialize again');
      if (session.agent !== agent) return jsonRpcError(res, 403, 'Forbidden: this session belongs to another client');
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      return session.transport.handleRequest(req, res, body);
    }
    if (req.method !== 'POST') return jsonRpcError(res, 400, 'Bad Request: no Mcp-Session-Id (initialize first with a POST)');
    const body = await readJson(req);
    if (!isInitializeRequest(body)) return jsonRpcError(res, 400, 'Bad Request: no Mcp-Session-Id, and the request is not initialize');
    const id = randomUUID();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: (sid) => void sessions.set(sid, { transport, agent }),
    });
    transport.onclose = () => sessions.delete(id);
    await gateway.session(agent, id).connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const server: HttpServer = createServer((req, res) => {
    handle(req, res).catch((err: Error & { status?: number }) => {
      if (!res.headersSent) jsonRpcError(res, err.status ?? 500, err.status ? err.message : 'Internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}${opts.path}`,
    async close() {
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => {})));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
