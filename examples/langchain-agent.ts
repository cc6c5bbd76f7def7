/**
 * A LangChain.js v1 agent whose tool calls Countersign decides.
 *
 *   npm start                    # the bot, with the local Slack sandbox at http://127.0.0.1:3001/
 *   npm run example:langchain    # this agent (another terminal)
 *
 * The model here is scripted (LangChain's fakeModel), so the example runs
 * offline: it looks the customer up (crm.read, autonomous in the example
 * config: runs at once, no card), then emails an outside address (email.send
 * to another domain: restricted, a card in #general). Approve or deny it in
 * the sandbox, acting as an approver; the run resumes from its checkpoint
 * with the decision. Put your own chat model in `model` for a real agent.
 * In your own project, import from `countersign/langchain`.
 */
import { randomUUID } from 'node:crypto';
import { fakeModel } from '@langchain/core/testing';
import { Command, MemorySaver } from '@langchain/langgraph';
import { AIMessage, ToolMessage, createAgent, humanInTheLoopMiddleware, tool } from 'langchain';
import { z } from 'zod';
import { CountersignClient } from '../src/index.js';
import { countersignInterruptOn, countersignMiddleware, countersignResume, type AdapterOptions } from '../src/langchain.js';

const gate = new CountersignClient({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: process.env.COUNTERSIGN_QUEUE_PREFIX });

// Who the agent is, and how its tools map onto the policy; Countersign gates the tools listed here.
const opts: AdapterOptions = {
  agent: { id: 'support-agent', name: 'Support Agent', owner: 'U0AGENTOWNR', model: 'scripted', promptVersion: 'example-1' },
  tools: {
    lookupCustomer: { type: 'crm.read', issueType: 'support', reversible: true },
    sendEmail: { type: 'email.send', issueType: 'support', summary: (a) => `Email ${String(a.to)}` },
  },
  waitMs: 15 * 60_000,
};

const lookupCustomer = tool(async ({ customerId }) => `Customer ${customerId}: Pat Lee, pat@customer.example, 2 open orders`, {
  name: 'lookupCustomer',
  description: 'Look up a customer by id',
  schema: z.object({ customerId: z.string() }),
});
const sendEmail = tool(async ({ to, subject }) => `Sent "${subject}" to ${to}`, {
  name: 'sendEmail',
  description: 'Send an email',
  schema: z.object({ to: z.string(), subject: z.string(), body: z.string() }),
});

const run = randomUUID().slice(0, 8);
const model = fakeModel()
  .respond(new AIMessage({ content: 'First I look the customer up.', tool_calls: [{ name: 'lookupCustomer', args: { customerId: 'C-4521' }, id: `lookup-${run}`, type: 'tool_call' }] }))
  .respond(
    new AIMessage({
      content: 'Pat asked for a copy of the refund confirmation; I will email it to their own address.',
      tool_calls: [{ name: 'sendEmail', args: { to: 'pat@customer.example', subject: 'Your refund', body: 'Your refund of $42.00 is on its way.' }, id: `email-${run}`, type: 'tool_call' }],
    }),
  )
  .respond((messages) => new AIMessage(`Done. ${messages.filter((m) => ToolMessage.isInstance(m)).map((m) => m.text).join(' / ')}`));

const agent = createAgent({
  model,
  tools: [lookupCustomer, sendEmail],
  checkpointer: new MemorySaver(),
  middleware: [humanInTheLoopMiddleware({ interruptOn: countersignInterruptOn(gate, opts) }), countersignMiddleware(gate, opts)],
});

const config = { configurable: { thread_id: `example-${run}` } };
try {
  let result = await agent.invoke({ messages: [{ role: 'user', content: 'Please send Pat the refund confirmation.' }] }, config);
  while (result.__interrupt__) {
    console.log('waiting for a person: approve or deny the card at http://127.0.0.1:3001/ (acting as an approver)');
    const resume = await countersignResume(agent, config, gate, opts);
    // Null: nobody decided within waitMs; the run stays paused in the checkpointer, so ask again.
    if (resume) result = await agent.invoke(new Command({ resume }), config);
  }
  console.log(result.messages.at(-1)?.text);
} finally {
  await gate.close();
}
