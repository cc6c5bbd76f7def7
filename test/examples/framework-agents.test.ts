import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approve, denyWithReason } from '../support/adapter-loop.js';
import { runProcess } from '../support/cli.js';
import { startHarness, type Harness } from '../support/harness.js';
import { REDIS_URL } from '../support/services.js';

// A child process loading tsx and a framework takes tens of seconds on a busy machine.
const CHILD_MS = 150_000;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

/** The escalation id of the next card Slack receives: the first chat.postMessage after the `before` seen so far. */
async function nextCard(before: number): Promise<string> {
  await h.fake.waitFor((c) => c.method === 'chat.postMessage' && h.fake.callsTo('chat.postMessage').length > before, CHILD_MS - 30_000);
  const posted = h.fake.callsTo('chat.postMessage')[before]!;
  return (posted.args.metadata as { event_payload: { escalation_id: string } }).event_payload.escalation_id;
}

/** Runs an example against this test's bot, as `npm run example:…` would against `npm start`. */
function runExample(name: string, args: string[] = []) {
  return runProcess(example(name), args, { env: { REDIS_URL, COUNTERSIGN_QUEUE_PREFIX: h.prefix } });
}

describe('the framework examples, offline with their scripted models', () => {
  it('LangChain: the autonomous lookup runs, the email waits for its card, and the run finishes once it is approved', async () => {
    const before = h.fake.callsTo('chat.postMessage').length;
    const done = runExample('langchain-agent.ts');
    await approve(h, await nextCard(before));
    const { code, stdout, stderr } = await done;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.trim().split('\n').at(-1)).toBe('Done. Customer C-4521: Pat Lee, pat@customer.example, 2 open orders / Sent "Your refund" to pat@customer.example');
  }, CHILD_MS);

  it('OpenAI Agents: the run is stored as a string, resumed in a fresh agent, and the model reads the denial', async () => {
    const before = h.fake.callsTo('chat.postMessage').length;
    const done = runExample('openai-agents.ts');
    await denyWithReason(h, await nextCard(before), 'not before the refund has cleared');
    const { code, stdout, stderr } = await done;
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('state stored in .countersign/openai-agents-state.txt');
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^Done\. Countersign did not approve sendEmail: not before the refund has cleared\./);
  }, CHILD_MS);
});
