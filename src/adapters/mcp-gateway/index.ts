import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Gate } from '../gate.js';
import type { GatewayConfig } from './config.js';
import { serveHttp } from './http.js';
import { connectUpstream, McpGateway } from './proxy.js';

export { parseGatewayConfig, type GatewayConfig } from './config.js';
export { IDEMPOTENCY_META_KEY, McpGateway, toolCallIdOf } from './proxy.js';

export interface RunningGateway {
  /** The Streamable HTTP endpoint, when serving HTTP. */
  url?: string;
  /** Resolves when the stdio client hung up (never for HTTP until close). */
  closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to the upstream server, then serves the configured transport.
 * Stdio uses `io` (default the process's stdin/stdout): stdout is the
 * protocol, so nothing else may write there.
 */
export async function startGateway(config: GatewayConfig, gate: Gate, io: { stdin?: Readable; stdout?: Writable; warn?: (line: string) => void } = {}): Promise<RunningGateway> {
  const upstream = await connectUpstream(config.upstream);
  const gateway = new McpGateway({ config, gate, upstream, ...(io.warn ? { warn: io.warn } : {}) });
  let hungUp!: () => void;
  const closed = new Promise<void>((resolve) => (hungUp = resolve));
  // The upstream went away: the gateway has nothing left to serve.
  upstream.onclose = () => hungUp();
  if (config.serve === 'http') {
    const http = await serveHttp(gateway, config.http!);
    return {
      url: http.url,
      closed,
      async close() {
        await http.close();
        await gateway.close();
        hungUp();
      },
    };
  }
  // One stdio client per process; a random session id, so request ids of an earlier run are never the same calls.
  const server = gateway.session(config.agent!, randomUUID());
  const transport = new StdioServerTransport(io.stdin, io.stdout);
  transport.onclose = () => hungUp();
  io.stdin?.once('end', () => hungUp());
  await server.connect(transport);
  return {
    closed,
    async close() {
      await gateway.close();
      hungUp();
    },
  };
}
