import { readFile } from 'node:fs/promises';
import { ConfigError, loadEnv } from '../config/env.js';
import { loadConfigFile } from '../config/file.js';
import { checkPolicy } from '../flow/policy-check.js';
import { openDatabase } from '../db/client.js';
import { verifyChain } from '../db/queries/audit-chain.js';

const USAGE = [
  'usage: countersign policy check <action.json | ->   (config: $COUNTERSIGN_CONFIG or ./countersign.yml)',
  '       countersign audit verify                       (database: $DATABASE_URL, or the embedded one)',
].join('\n');

/** Walks the audit hash chain; exit 0 green, 3 broken (naming the first broken record). */
async function auditVerify(): Promise<number> {
  const env = loadEnv(process.env);
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.COUNTERSIGN_DATA_DIR, max: 2 });
  try {
    const started = performance.now();
    const r = await verifyChain(database.db);
    const secs = (performance.now() - started) / 1000;
    if (r.kind === 'ok') {
      process.stdout.write(`audit chain OK: ${r.checked} records in ${secs.toFixed(2)} s, head ${r.head.slice(0, 16)}…, ${r.unsealed} not sealed yet\n`);
      return 0;
    }
    process.stdout.write(`audit chain BROKEN at event ${r.eventId}: ${r.reason === 'missing' ? 'the event was deleted' : 'the event was changed after it was sealed'} (${r.checked} records before it verified)\n`);
    return 3;
  } finally {
    await database.close();
  }
}

/**
 * `countersign policy check <file>`: which tier or outcome an action gets,
 * and which rule decided, under the config on disk. Exit 0 allow, 1 pending,
 * 2 deny, 64 usage, 65 bad input, 78 bad config.
 */
async function main(argv: string[]): Promise<number> {
  const [group, verb, file] = argv;
  if (group === 'audit' && verb === 'verify') return auditVerify();
  if (group !== 'policy' || verb !== 'check' || !file) {
    process.stderr.write(`${USAGE}\n`);
    return 64;
  }
  const env = loadEnv(process.env);
  const { config, version } = await loadConfigFile(env.COUNTERSIGN_CONFIG ?? './countersign.yml');
  const text = file === '-' ? await new Response(process.stdin as never).text() : await readFile(file, 'utf8');
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (err) {
    process.stderr.write(`countersign: ${file}: not JSON (${(err as Error).message})\n`);
    return 65;
  }
  try {
    const { decision, text: out } = checkPolicy(config, input);
    process.stdout.write(`${out}\npolicy:  ${version}\n`);
    return decision.outcome === 'allow' ? 0 : decision.outcome === 'pending' ? 1 : 2;
  } catch (err) {
    process.stderr.write(`countersign: ${file}: ${(err as Error).message.split('\n')[0]}\n`);
    return 65;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`countersign: ${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exitCode = err instanceof ConfigError ? 78 : 1;
}
