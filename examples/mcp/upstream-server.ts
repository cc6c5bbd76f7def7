/**
 * A tiny MCP server standing in for a real one (a payments API, a CRM): two
 * tools, `lookup_order` (read-only) and `refund` (moves money). It knows
 * nothing about Countersign; the gateway in front of it asks first.
 *
 *   node --import tsx examples/mcp/upstream-server.ts [--log ran.jsonl]
 *
 * serves MCP on stdio; with --log, each tool run is appended to that file
 * (the tests read it to see what actually ran).
 */
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

export interface ToolRun {
  tool: string;
  args: Record<string, unknown>;
}

export function createUpstreamServer(onRun: (run: ToolRun) => void = () => {}): McpServer {
  const server = new McpServer({ name: 'example-shop', version: '1.0.0' });
  server.registerTool(
    'lookup_order',
    { description: 'Reads an order: status and amount.', inputSchema: { orderId: z.string().describe('e.g. 4521') }, annotations: { readOnlyHint: true } },
    ({ orderId }) => {
      onRun({ tool: 'lookup_order', args: { orderId } });
      return { content: [{ type: 'text', text: `Order ${orderId}: delivered, 340.00 USD, paid by card` }] };
    },
  );
  server.registerTool(
    'refund',
    {
      description: 'Refunds part or all of an order to the card it was paid with.',
      inputSchema: { orderId: z.string(), amountUsd: z.number().positive(), reason: z.string().optional() },
      annotations: { destructiveHint: true },
    },
    ({ orderId, amountUsd, reason }) => {
      onRun({ tool: 'refund', args: { orderId, amountUsd, ...(reason ? { reason } : {}) } });
      return { content: [{ type: 'text', text: `Refunded ${amountUsd.toFixed(2)} USD for order ${orderId}` }] };
    },
  );
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { log } = parseArgs({ options: { log: { type: 'string' } } }).values;
  const server = createUpstreamServer((run) => log && appendFileSync(log, `${JSON.stringify(run)}\n`));
  await server.connect(new StdioServerTransport());
}
