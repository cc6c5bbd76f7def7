/**
 * A Vercel AI SDK agent whose tools ask Countersign first.
 *
 *   npm start                 # the bot, in sandbox mode: Slack is the page at http://127.0.0.1:3001/
 *   npm run example:ai-sdk    # this agent
 *
 * The agent looks a customer up (crm.read: autonomous, runs at once) and then
 * refunds $640 (payments.refund over $500: a card in the sandbox). Approve or
 * deny it there; the refund runs, or the model reads your reason. Offline, a
 * scripted model plays the LLM; with AI_GATEWAY_API_KEY set, a real model
 * through the AI SDK's gateway does. Reads REDIS_URL and
 * COUNTERSIGN_QUEUE_PREFIX like the bot. In your project, import from
 * 'countersign/ai-sdk' and 'countersign' instead of ../src.
 */
import { randomUUID } from 'node:crypto';
import { gateway, generateText, isStepCount, tool, type LanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { z } from 'zod';
import { withCountersign } from '../src/adapters/ai-sdk.js';
import { CountersignClient } from '../src/client/index.js';
import { commandEnv, loadEnvFor } from '../src/config/env.js';

const env = loadEnvFor(commandEnv.queue, process.env);
const client = new CountersignClient({ redisUrl: env.REDIS_URL, prefix: env.COUNTERSIGN_QUEUE_PREFIX });

const tools = {
  lookupCustomer: tool({
    description: 'Read a customer record by id',
    inputSchema: z.object({ customerId: z.string() }),
    execute: async ({ customerId }) => ({ customerId, name: 'Ada Lovelace', plan: 'pro', lastOrder: '4521' }),
  }),
  refund: tool({
    description: 'Refund an order, in US dollars',
    inputSchema: z.object({ orderId: z.string(), amountUsd: z.number() }),
    execute: async ({ orderId, amountUsd }) => {
      console.log(`  → refund tool ran: $${amountUsd} for order ${orderId}`);
      return { refundId: `re_${randomUUID().slice(0, 8)}`, amountUsd };
    },
  }),
};

/** Plays the LLM offline: looks the customer up, asks for the refund, then sums up what the tools said. */
function scriptedModel(): LanguageModel {
  const run = randomUUID().slice(0, 8);
  const usage = { inputTokens: { total: 200, noCache: 200, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 40, text: 40, reasoning: 0 } };
  const call = (toolName: string, input: object, said: string) => ({
    content: [
      { type: 'text' as const, text: said },
      { type: 'tool-call' as const, toolCallId: `${toolName}-${run}`, toolName, input: JSON.stringify(input) },
    ],
    finishReason: { unified: 'tool-calls' as const, raw: 'tool_calls' },
    usage,
    warnings: [],
  });
  return new MockLanguageModelV4({
    modelId: 'scripted',
    doGenerate: async ({ prompt }) => {
      const results = prompt.filter((m) => m.role === 'tool').flatMap((m) => m.content);
      if (results.length === 0) return call('lookupCustomer', { customerId: 'C-1042' }, 'First I check who the customer is.');
      if (results.length === 1) return call('refund', { orderId: '4521', amountUsd: 640 }, 'Order 4521 was charged twice; I refund the duplicate $640.');
      const last = results.at(-1) as { output?: { type: string; reason?: string; value?: unknown } };
      const text =
        last.output?.type === 'execution-denied'
          ? `I could not refund order 4521. ${last.output.reason ?? ''}`
          : `Refunded the duplicate charge on order 4521: ${JSON.stringify(last.output?.value)}.`;
      return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
    },
  });
}

// The gateway reads AI_GATEWAY_API_KEY itself; without it, the scripted model keeps this example offline.
const model = process.env.AI_GATEWAY_API_KEY ? gateway('openai/gpt-5-mini') : scriptedModel();

const cs = withCountersign(tools, {
  gate: client,
  agent: { id: 'support-agent', name: 'Support Agent', owner: 'U0AGENTOWNR', model: typeof model === 'string' ? model : model.modelId },
  tools: {
    lookupCustomer: { type: 'crm.read', issueType: 'support', reversible: true },
    refund: { type: 'payments.refund', issueType: 'refund', summary: (a) => `Refund $${String(a.amountUsd)} for order #${String(a.orderId)}` },
  },
  executionId: `ai-sdk-example-${randomUUID().slice(0, 8)}`,
  waitMs: 15 * 60_000,
});

console.log('Asking the agent; a refund over $500 waits for a decision in the sandbox page (http://127.0.0.1:3001/).');
try {
  const result = await generateText({
    model,
    system: 'You are a support agent. When a tool call is not approved, do not retry it; tell the user why.',
    prompt: 'Customer C-1042 says order 4521 was charged twice ($640 each). Please fix it.',
    stopWhen: isStepCount(4),
    ...cs,
  });
  for (const step of result.steps) {
    for (const part of step.content) {
      if (part.type === 'tool-approval-response') console.log(`  ${part.toolCall.toolName}: ${part.approved ? 'allowed' : 'denied'}. ${part.reason ?? ''}`);
    }
  }
  console.log(`\nThe model: ${result.text}`);
} finally {
  await client.close();
}
