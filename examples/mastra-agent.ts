/**
 * A Mastra agent whose tool calls Countersign approves or declines.
 *
 *   npm start                 # the bot, in sandbox mode: Slack is the page at http://127.0.0.1:3001/
 *   npm run example:mastra    # this agent (MASTRA_TELEMETRY_DISABLED=1: Mastra sends no usage data)
 *
 * The agent looks a customer up (crm.read: autonomous, approved at once) and
 * then refunds $640 (payments.refund over $500: a card in the sandbox).
 * Approve or deny it there: the adapter calls approveToolCall or
 * declineToolCall with your reason, which the model reads. Offline, Mastra's
 * mock model plays the LLM; with OPENAI_API_KEY set, a real model does.
 * Reads REDIS_URL and COUNTERSIGN_QUEUE_PREFIX like the bot. In your
 * project, import from 'countersign/mastra' and 'countersign' instead of ../src.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from '@mastra/core/agent';
import { Mastra } from '@mastra/core/mastra';
import { InMemoryStore } from '@mastra/core/storage';
import { MastraLanguageModelV2Mock } from '@mastra/core/test-utils/llm-mock';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';
import { countersign } from '../src/adapters/mastra.js';
import { CountersignClient } from '../src/client/index.js';
import { commandEnv, loadEnvFor } from '../src/config/env.js';

const env = loadEnvFor(commandEnv.queue, process.env);
const client = new CountersignClient({ redisUrl: env.REDIS_URL, prefix: env.COUNTERSIGN_QUEUE_PREFIX });

const lookupCustomer = createTool({
  id: 'lookupCustomer',
  description: 'Read a customer record by id',
  inputSchema: z.object({ customerId: z.string() }),
  execute: async ({ customerId }) => ({ customerId, name: 'Ada Lovelace', plan: 'pro', lastOrder: '4521' }),
});
const refund = createTool({
  id: 'refund',
  description: 'Refund an order, in US dollars',
  inputSchema: z.object({ orderId: z.string(), amountUsd: z.number() }),
  execute: async ({ orderId, amountUsd }) => {
    console.log(`  → refund tool ran: $${amountUsd} for order ${orderId}`);
    return { refundId: `re_${randomUUID().slice(0, 8)}`, amountUsd };
  },
});

/** Plays the LLM offline: looks the customer up, asks for the refund, then sums up what the tools said. */
function scriptedModel() {
  const run = randomUUID().slice(0, 8);
  const usage = { inputTokens: 200, outputTokens: 40, totalTokens: 240 };
  const stream = (parts: unknown[]) => ({
    stream: new ReadableStream({
      start(c) {
        for (const p of [{ type: 'stream-start', warnings: [] }, ...parts]) c.enqueue(p);
        c.close();
      },
    }),
  });
  const say = (id: string, text: string) => [{ type: 'text-start', id }, { type: 'text-delta', id, delta: text }, { type: 'text-end', id }];
  const call = (toolName: string, input: object, said: string) =>
    stream([...say(`t-${toolName}`, said), { type: 'tool-call', toolCallId: `${toolName}-${run}`, toolName, input: JSON.stringify(input) }, { type: 'finish', finishReason: 'tool-calls', usage }]);
  return new MastraLanguageModelV2Mock({
    modelId: 'scripted',
    doStream: async ({ prompt }) => {
      const results = prompt.filter((m) => m.role === 'tool').flatMap((m) => m.content);
      if (results.length === 0) return call('lookupCustomer', { customerId: 'C-1042' }, 'First I check who the customer is. ');
      if (results.length === 1) return call('refund', { orderId: '4521', amountUsd: 640 }, 'Order 4521 was charged twice; I refund the duplicate $640. ');
      const last = results.at(-1) as { output?: { type: string; value?: unknown } };
      const said = typeof last.output?.value === 'string' ? `I could not refund order 4521. ${last.output.value}` : `Refunded the duplicate charge: ${JSON.stringify(last.output?.value)}.`;
      return stream([...say('t-end', `\n${said}`), { type: 'finish', finishReason: 'stop', usage }]);
    },
  });
}

// Mastra's model router reads OPENAI_API_KEY itself; without it, the scripted model keeps this example offline.
const model = process.env.OPENAI_API_KEY ? 'openai/gpt-5-mini' : scriptedModel();

const mastra = new Mastra({
  agents: {
    support: new Agent({
      id: 'support-agent',
      name: 'Support Agent',
      instructions: 'You are a support agent. When a tool call is not approved, do not retry it; tell the user why.',
      model,
      tools: { lookupCustomer, refund },
    }),
  },
  // Suspended runs live here while a person decides; use a persistent store to resume after a restart.
  storage: new InMemoryStore(),
  logger: false,
});
const agent = mastra.getAgent('support');

const cs = countersign({
  gate: client,
  agent: { id: 'support-agent', name: 'Support Agent', owner: 'U0AGENTOWNR' },
  tools: {
    lookupCustomer: { type: 'crm.read', issueType: 'support', reversible: true },
    refund: { type: 'payments.refund', issueType: 'refund', summary: (a) => `Refund $${String(a.amountUsd)} for order #${String(a.orderId)}` },
  },
  waitMs: 15 * 60_000,
});

const prompt = 'Customer C-1042 says order 4521 was charged twice ($640 each). Please fix it.';
console.log('Asking the agent; a refund over $500 waits for a decision in the sandbox page (http://127.0.0.1:3001/).');
try {
  const run = await cs.drive(agent, await agent.stream(prompt, cs.streamOptions), {
    input: prompt,
    onChunk: (c) => {
      if (c.type === 'tool-call-approval') console.log(`  ${(c.payload as { toolName: string }).toolName}: asking Countersign`);
      if (c.type === 'tool-result') console.log(`  ${(c.payload as { toolName: string }).toolName}: ran`);
    },
  });
  console.log(`\nThe model: ${await run.output.text}`);
} finally {
  await client.close();
}
