import { commandEnv, loadEnvFor } from '../config/env.js';
import { loadConfigFile } from '../config/file.js';
import { cliConfigPath, EXIT, exitFor, readInputFile } from './common.js';
import { checkPolicy } from '../flow/policy-check.js';
import { AUDIT_VERIFY_USAGE, auditVerify } from './audit-verify.js';
import { EXPLAIN_USAGE, explain } from './explain.js';
import { AUDIT_EXPORT_USAGE, AUDIT_SEARCH_USAGE, auditExport, auditSearch } from './audit-search.js';
import { MCP_GATEWAY_USAGE, mcpGateway } from './mcp-gateway.js';

const USAGE = [
  'usage: countersign policy check <action.json | ->   (config: $COUNTERSIGN_CONFIG, else ./countersign.yml, else examples/countersign.yml)',
  `       ${AUDIT_VERIFY_USAGE}`,
  `       ${AUDIT_SEARCH_USAGE}`,
  `       ${AUDIT_EXPORT_USAGE}`,
  `       ${EXPLAIN_USAGE}`,
  `       ${MCP_GATEWAY_USAGE}`,
].join('\n');

/**
 * `countersign policy check <file>`: which tier or outcome an action gets,
 * and which rule decided, under the config `npm start` would read. Exit 0
 * allow, 1 pending, 2 deny, 64 usage, 65 bad input, 66 no such input file,
 * 78 bad config (all in EXIT).
 */
async function main(argv: string[]): Promise<number> {
  const [group, verb, file] = argv;
  if (group === 'audit' && verb === 'verify') return auditVerify(argv.slice(2));
  if (group === 'audit' && verb === 'search') return auditSearch(argv.slice(2));
  if (group === 'audit' && verb === 'export') return auditExport(argv.slice(2));
  if (group === 'explain') return explain(argv.slice(1));
  if (group === 'mcp-gateway') return mcpGateway(argv.slice(1), process.env);
  if (group !== 'policy' || verb !== 'check' || !file) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT.usage;
  }
  const env = loadEnvFor(commandEnv.policy, process.env);
  const { config, version } = await loadConfigFile(cliConfigPath(env.COUNTERSIGN_CONFIG));
  const text = file === '-' ? await new Response(process.stdin as never).text() : await readInputFile(file);
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    process.stderr.write(`countersign: ${file}: not JSON (${(err as Error).message})\n`);
    return EXIT.badInput;
  }
  try {
    const { decision, text: out } = checkPolicy(config, input);
    process.stdout.write(`${out}\npolicy:  ${version}\n`);
    return EXIT[decision.outcome];
  } catch (err) {
    process.stderr.write(`countersign: ${file}: ${(err as Error).message.split('\n')[0]}\n`);
    return EXIT.badInput;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.exitCode = exitFor(err);
}
