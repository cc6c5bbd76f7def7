/**
 * `npm run sandbox:agents`: the sample agents, run against a Countersign
 * that is already up (e.g. `npm start` in sandbox mode). Streams the cases,
 * prints each policy answer, then waits for people to decide the pending ones.
 * Reads REDIS_URL and COUNTERSIGN_QUEUE_PREFIX like the bot.
 */
import { CountersignClient } from '../src/client/index.js';
import { commandEnv, ConfigError, loadEnvFor } from '../src/config/env.js';
import { runSampleAgents } from '../src/sandbox/samples.js';

/** Only the queue's variables: Slack credentials set for the bot are not this script's business. */
function queueEnv() {
  try {
    return loadEnvFor(commandEnv.queue, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`countersign: ${err.message}\n`);
    process.exit(78); // EX_CONFIG, as the bot
  }
}

const env = queueEnv();
const log = (line: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const answers = await runSampleAgents({ redisUrl: env.REDIS_URL, prefix: env.COUNTERSIGN_QUEUE_PREFIX, log });
const pending = answers.filter((a) => a.decision === 'pending');
log(`${answers.length} escalations sent; ${pending.length} wait for a person. Decide them in the sandbox page (Ctrl-C to stop waiting).`);
const client = new CountersignClient({ redisUrl: env.REDIS_URL, prefix: env.COUNTERSIGN_QUEUE_PREFIX });
await Promise.all(
  pending.map(async (a) => {
    try {
      const d = await client.waitForDecision(a.escalationId, { timeoutMs: 3_600_000 });
      log(`${a.escalationId}: ${d.status}${d.decision?.by ? ` by ${d.decision.by}` : ''}${d.decision?.reason ? `: ${d.decision.reason}` : ''} → proceed=${d.proceed}`);
    } catch (err) {
      log(`${a.escalationId}: ${(err as Error).message}`);
    }
  }),
);
await client.close();
