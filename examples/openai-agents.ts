/**
 * An OpenAI Agents JS agent whose tool calls Countersign decides, resumed
 * from its stored state.
 *
 *   npm start                        # the bot, with the local Slack sandbox at http://127.0.0.1:3001/
 *   npm run example:openai-agents    # this agent (another terminal)
 *
 * Without OPENAI_API_KEY the model is scripted, so the example runs offline:
 * it emails an outside address (email.send to another domain: restricted in
 * the example config, a card in #general). The interrupted run is stored as
 * a string in .countersign/openai-agents-state.txt and every agent object is
 * dropped; resuming builds a fresh agent from the string, waits for the
 * decision and continues. Stop the example while it waits and resume later
 * (from any process) with `npm run example:openai-agents -- --resume`.
 * In your own project, import from `countersign/openai-agents`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, Runner, RunState, Usage, setTracingDisabled, tool, type AgentInputItem, type Model, type ModelRequest, type ModelResponse } from '@openai/agents';
import { z } from 'zod';
import { CountersignClient } from '../src/index.js';
import { countersignExecute, countersignNeedsApproval, resolveInterruptions, type OpenAIAgentsOptions } from '../src/openai-agents.js';

// Nothing is exported to OpenAI's tracing from this example.
setTracingDisabled(true);
const STATE_FILE = '.countersign/openai-agents-state.txt';

const opts: OpenAIAgentsOptions = {
  agent: { id: 'support-agent', name: 'Support Agent', owner: 'U0AGENTOWNR', model: process.env.OPENAI_API_KEY ? 'gpt-4.1-mini' : 'scripted' },
  tools: { sendEmail: { type: 'email.send', issueType: 'support', summary: (a) => `Email ${String(a.to)}` } },
  waitMs: 15 * 60_000,
};

/** Offline stand-in for a model: calls sendEmail once, then reports what the tool (or Countersign) said. */
class ScriptedModel implements Model {
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const input: AgentInputItem[] = Array.isArray(request.input) ? request.input : [];
    const result = input.find((i) => i.type === 'function_call_result');
    const usage = new Usage({ requests: 1, inputTokens: 30, outputTokens: 12, totalTokens: 42 });
    if (result) {
      const said = typeof result.output === 'string' ? result.output : 'text' in result.output ? result.output.text : JSON.stringify(result.output);
      return { usage, output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `Done. ${said}` }] }] };
    }
    const args = { to: 'pat@customer.example', subject: 'Your refund', body: 'Your refund of $42.00 is on its way.' };
    return { usage, output: [{ type: 'function_call', callId: `call-${randomUUID().slice(0, 8)}`, name: 'sendEmail', arguments: JSON.stringify(args), status: 'completed' }] };
  }
  getStreamedResponse(): AsyncIterable<never> {
    throw new Error('the scripted model does not stream');
  }
}

/** The agent as any process builds it; nothing of an earlier run lives in it. */
function makeAgent(gate: CountersignClient) {
  return new Agent({
    name: 'Support Agent',
    instructions: 'Help the customer.',
    model: process.env.OPENAI_API_KEY ? 'gpt-4.1-mini' : new ScriptedModel(),
    tools: [
      tool({
        name: 'sendEmail',
        description: 'Send an email',
        parameters: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
        needsApproval: countersignNeedsApproval(gate, opts, 'sendEmail'),
        execute: countersignExecute(gate, opts, 'sendEmail', async ({ to, subject }: { to: string; subject: string }) => `Sent "${subject}" to ${to}`),
      }),
    ],
  });
}

const runner = new Runner({ tracingDisabled: true });
const connect = () => new CountersignClient({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: process.env.COUNTERSIGN_QUEUE_PREFIX });

/** Part 1: run until Countersign interrupts, store the state as a string, drop everything. False when the run finished without one. */
async function runUntilInterrupted(): Promise<boolean> {
  const gate = connect();
  try {
    const context = { executionId: `example-${randomUUID().slice(0, 8)}` };
    const result = await runner.run(makeAgent(gate), 'Please send Pat the refund confirmation.', { context });
    if (result.interruptions.length === 0) {
      console.log(result.finalOutput);
      return false;
    }
    await mkdir('.countersign', { recursive: true });
    await writeFile(STATE_FILE, result.state.toString());
    console.log(`interrupted: ${result.interruptions.map((i) => i.name).join(', ')}; state stored in ${STATE_FILE}`);
    return true;
  } finally {
    await gate.close();
  }
}

/** Part 2 (here, or hours later in another process): only the stored string is needed. */
async function resumeFromString(): Promise<void> {
  const gate = connect();
  try {
    const agent = makeAgent(gate);
    const state = await RunState.fromString(agent, await readFile(STATE_FILE, 'utf8'));
    console.log('waiting for a person: approve or deny the card at http://127.0.0.1:3001/ (acting as an approver)');
    const resolution = await resolveInterruptions(state, gate, opts);
    if (resolution.pending.length > 0) {
      console.log('still undecided; resume later with: npm run example:openai-agents -- --resume');
      return;
    }
    console.log((await runner.run(agent, state)).finalOutput);
  } finally {
    await gate.close();
  }
}

if (process.argv.includes('--resume') || (await runUntilInterrupted())) await resumeFromString();
