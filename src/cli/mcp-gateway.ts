import { parseArgs } from 'node:util';
import { CountersignClient } from '../client/index.js';
import { commandEnv, loadEnvFor } from '../config/env.js';
import { EXIT, readInputFile } from './common.js';

export const MCP_GATEWAY_USAGE = 'countersign mcp-gateway --config <gateway.yml>   (MCP proxy asking Countersign before each tools/call; REDIS_URL, COUNTERSIGN_QUEUE_PREFIX)';

/**
 * `countersign mcp-gateway --config gw.yml`: runs until the stdio client
 * hangs up, the upstream server exits, or SIGINT/SIGTERM. The MCP SDK is an
 * optional peer dependency: loaded here only, so the other commands (and the
 * bot) never need it. Nothing but the protocol goes to stdout.
 */
export async function mcpGateway(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  let configPath: string | undefined;
  try {
    configPath = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true }).values.config;
  } catch (err) {
    process.stderr.write(`countersign: ${(err as Error).message}\nusage: ${MCP_GATEWAY_USAGE}\n`);
    return EXIT.usage;
  }
  if (!configPath) {
    process.stderr.write(`usage: ${MCP_GATEWAY_USAGE}\n`);
    return EXIT.usage;
  }
  const queue = loadEnvFor(commandEnv.queue, env);
  const text = await readInputFile(configPath);
  let gatewayModule: typeof import('../adapters/mcp-gateway/index.js');
  try {
    gatewayModule = await import('../adapters/mcp-gateway/index.js');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !(err as Error).message.includes('@modelcontextprotocol/sdk')) throw err;
    process.stderr.write('countersign: mcp-gateway needs @modelcontextprotocol/sdk: npm install @modelcontextprotocol/sdk\n');
    return EXIT.config;
  }
  const config = gatewayModule.parseGatewayConfig(text, configPath, env);
  const client = new CountersignClient({ redisUrl: queue.REDIS_URL, prefix: queue.COUNTERSIGN_QUEUE_PREFIX });
  const warn = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const running = await gatewayModule.startGateway(config, client, { stdin: process.stdin, stdout: process.stdout, warn });
    if (running.url) warn(`countersign mcp-gateway: serving Streamable HTTP at ${running.url}`);
    const stop = () => void running.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await running.closed;
    await running.close().catch(() => {});
  } finally {
    await client.close();
  }
  return 0;
}
