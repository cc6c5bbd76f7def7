/**
 * `npm run example:mcp`: an MCP client standing in for Claude Desktop or an
 * agent, talking to the example shop server through the Countersign MCP
 * gateway (`countersign mcp-gateway --config examples/mcp/gateway.yml`,
 * started here on stdio as a desktop client would). Run `npm start` first
 * (sandbox mode), then decide the refund on the sandbox page
 * (http://127.0.0.1:3001/). Reads REDIS_URL and COUNTERSIGN_QUEUE_PREFIX
 * like the bot, and passes them to the gateway.
 *
 *   1. lookup_order          crm.read: autonomous, answered at once
 *   2. refund 800 USD        over $500: waits for a person (progress shown)
 *   3. refund 6,000 USD      over $5,000: denied by policy, the rule's reason
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { commandEnv, loadEnvFor } from '../../src/config/env.js';

const env = loadEnvFor(commandEnv.queue, process.env);
const root = fileURLToPath(new URL('../..', import.meta.url));
const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

const transport = new StdioClientTransport({
  command: process.execPath,
  args: ['--import', 'tsx', 'src/cli/countersign.ts', 'mcp-gateway', '--config', 'examples/mcp/gateway.yml'],
  cwd: root,
  env: { ...getDefaultEnvironment(), REDIS_URL: env.REDIS_URL, COUNTERSIGN_QUEUE_PREFIX: env.COUNTERSIGN_QUEUE_PREFIX },
  stderr: 'inherit',
});
const client = new Client({ name: 'countersign-example-agent', version: '1.0.0' });
await client.connect(transport);
log(`tools: ${(await client.listTools()).tools.map((t) => t.name).join(', ')}`);

const say = (r: CallToolResult) => `${r.isError ? 'REFUSED' : 'ok'}: ${r.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join(' ')}`;
async function call(name: string, args: Record<string, unknown>): Promise<void> {
  log(`→ ${name} ${JSON.stringify(args)}`);
  const result = (await client.callTool({ name, arguments: args }, undefined, {
    onprogress: (p) => log(`  … ${p.message ?? p.progress}`),
    // A person may take a while: each progress notification restarts the SDK's 60 s request timeout.
    resetTimeoutOnProgress: true,
    maxTotalTimeout: 15 * 60_000,
  })) as CallToolResult;
  log(`← ${say(result)}`);
}

try {
  await call('lookup_order', { orderId: '4521' });
  log('Decide the next one on the sandbox page: http://127.0.0.1:3001/');
  await call('refund', { orderId: '4521', amountUsd: 800, reason: 'double charge' });
  await call('refund', { orderId: '4522', amountUsd: 6000 });
} finally {
  await client.close();
}
