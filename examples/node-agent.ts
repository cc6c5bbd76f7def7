/**
 * A Node agent asking Countersign for approval before it acts.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/node-agent.ts
 *
 * In your own project, import from the package instead of ../src/index.js.
 * The client validates the escalation with the same zod schema as the bot,
 * enqueues it on the `escalations` queue (prefix `countersign`) with
 * jobId = id, and reads the decision back from Redis: a decision made while
 * this process was down is still there when it asks.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CountersignClient, type DecisionMessage, type EscalationInput } from '../src/index.js';

const WAIT_MINUTES = 15;

const client = new CountersignClient({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });

const template = JSON.parse(await readFile(new URL('./escalation.json', import.meta.url), 'utf8')) as EscalationInput;
const escalation: EscalationInput = {
  ...template,
  // The agent chooses the id. Keep it with the pending action: submitting the
  // same id again (after a crash, say) is a no-op, not a second request.
  id: randomUUID(),
  executionId: `exec-${Date.now()}`,
  // Past the deadline nobody can approve any more: it expires as a deny.
  deadline: new Date(Date.now() + WAIT_MINUTES * 60_000).toISOString(),
  // This example reads the decision through the client, so no callback URL.
  callback: undefined,
};

async function refund(params: Record<string, unknown> | undefined): Promise<void> {
  console.log('refunding', params);
}

let decision: DecisionMessage | undefined;
try {
  const { id } = await client.submit(escalation);
  console.log(`submitted ${id}; waiting up to ${WAIT_MINUTES} minutes for a human`);
  // A little longer than the deadline, so the expiry (a deny) normally arrives first.
  decision = await client.waitForDecision(id, { timeoutMs: (WAIT_MINUTES + 1) * 60_000 });
} catch (err) {
  // A TimeoutError (code `countersign_timeout`) or an invalid escalation
  // (code `countersign_invalid_escalation`): either way, no approval.
  console.error(`no decision: ${(err as Error).message}`);
} finally {
  await client.close();
}

// Act only on an explicit approval. Every other outcome (denied, expired,
// rejected, no answer) means: do not perform the action.
if (decision?.proceed === true) {
  console.log(`approved by ${decision.decision?.by} at ${decision.decision?.at}`);
  await refund(escalation.action.params);
} else if (decision) {
  console.log(`not approved: ${decision.status}${decision.decision?.reason ? ` (${decision.decision.reason})` : ''}`);
  for (const e of decision.errors ?? []) console.log(`  ${e.path}: ${e.message}`);
  process.exitCode = 1;
} else {
  process.exitCode = 1;
}
