import { randomUUID } from 'node:crypto';
import { fakeModel } from '@langchain/core/testing';
import { Command, MemorySaver } from '@langchain/langgraph';
import { AIMessage, ToolMessage, createAgent, humanInTheLoopMiddleware, tool, type BaseMessage } from 'langchain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { countersignInterruptOn, countersignMiddleware, countersignResume } from '../../src/langchain.js';
import { escalationIdOf } from '../../src/adapters/tool-call.js';
import { approve, cardsFor, denyWithReason, outcomeOf, supportAgent as opts } from '../support/adapter-loop.js';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** What the tools did, per test: a tool that ran left its line here. */
let ran: string[];

const tools = [
  tool(async ({ to }) => (ran.push(`sendEmail ${to}`), `sent to ${to}`), { name: 'sendEmail', description: 'Send an email', schema: z.object({ to: z.string(), body: z.string() }) }),
  tool(async ({ customerId }) => (ran.push(`lookupCustomer ${customerId}`), `customer ${customerId}: Pat`), { name: 'lookupCustomer', description: 'Look up a customer', schema: z.object({ customerId: z.string() }) }),
  tool(async ({ customerId }) => (ran.push(`deleteCustomer ${customerId}`), 'deleted'), { name: 'deleteCustomer', description: 'Delete a customer', schema: z.object({ customerId: z.string() }) }),
];

/** The scripted model's last turn: it answers with what the tool messages said, so a test sees what the model saw. */
const echoToolMessages = (messages: BaseMessage[]) =>
  new AIMessage(`Tools said: ${messages.filter((m) => ToolMessage.isInstance(m)).map((m) => `${m.name}: ${m.text}`).join(' | ')}`);

/** A LangChain v1 agent whose model calls one tool and then reports what it saw, gated by Countersign. */
function agentCalling(name: string, args: Record<string, unknown>, guard = opts) {
  const id = `call_${randomUUID()}`;
  const model = fakeModel()
    .respond(new AIMessage({ content: `I will call ${name}.`, tool_calls: [{ name, args, id, type: 'tool_call' }] }))
    .respond(echoToolMessages);
  const agent = createAgent({
    model,
    tools,
    checkpointer: new MemorySaver(),
    middleware: [humanInTheLoopMiddleware({ interruptOn: countersignInterruptOn(h.client, opts) }), countersignMiddleware(h.client, guard)],
  });
  const config = { configurable: { thread_id: `thread-${randomUUID()}` } };
  return { agent, config, escalationId: escalationIdOf('support-agent', id), start: () => agent.invoke({ messages: [{ role: 'user', content: 'Please help Pat.' }] }, config) };
}

const lastText = (r: { messages: BaseMessage[] }) => r.messages.at(-1)!.text;

describe('a LangChain agent gated by Countersign', () => {
  it('interrupts on a call that needs a person, posts one card, and runs the tool once the card is approved; the outcome reaches the audit trail', async () => {
    ran = [];
    const run = agentCalling('sendEmail', { to: 'pat@customer.example', body: 'Your refund is on its way.' });
    const first = await run.start();
    expect(first.__interrupt__).toHaveLength(1);
    expect(ran).toEqual([]);

    const card = await h.card(run.escalationId);
    expect(JSON.stringify(card.blocks)).toContain('I will call sendEmail.');
    const resume = countersignResume(run.agent, run.config, h.client, opts);
    await approve(h, run.escalationId);
    expect(await resume).toEqual({ decisions: [{ type: 'approve' }] });

    const done = await run.agent.invoke(new Command({ resume: await resume }), run.config);
    expect(ran).toEqual(['sendEmail pat@customer.example']);
    expect(lastText(done)).toBe('Tools said: sendEmail: sent to pat@customer.example');
    // The audit trail masks the address (PII), as it does every stored text.
    expect(await outcomeOf(h, run.escalationId)).toMatchObject({ success: true, output: 'sent to p***@customer.example', action_type: 'email.send', execution_id: run.config.configurable.thread_id });
    const [row] = await h.sql`select status, execution_id, request->>'reasoning' as reasoning, request->'trigger'->>'input' as input from escalations where id = ${run.escalationId}`;
    expect(row).toMatchObject({ status: 'approved', execution_id: run.config.configurable.thread_id, reasoning: 'I will call sendEmail.', input: 'Please help Pat.' });
    expect(cardsFor(h, run.escalationId)).toHaveLength(1);
  });

  it("rejects a call the person denied, and the model reads the person's reason instead of a tool result", async () => {
    ran = [];
    const run = agentCalling('sendEmail', { to: 'pat@customer.example', body: 'Here is the other customer’s invoice.' });
    await run.start();
    await h.card(run.escalationId);
    await denyWithReason(h, run.escalationId, 'that invoice belongs to another customer');
    const resume = await countersignResume(run.agent, run.config, h.client, opts);
    expect(resume).toEqual({ decisions: [{ type: 'reject', message: expect.stringContaining('that invoice belongs to another customer') }] });

    const done = await run.agent.invoke(new Command({ resume }), run.config);
    expect(ran).toEqual([]);
    expect(lastText(done)).toMatch(/^Tools said: sendEmail: Countersign did not approve sendEmail: that invoice belongs to another customer\./);
    expect((await h.sql`select status from escalations where id = ${run.escalationId}`)[0]).toEqual({ status: 'denied' });
  });

  it('lets an autonomous call run at once: no interrupt, no card, and its outcome is recorded', async () => {
    ran = [];
    const run = agentCalling('lookupCustomer', { customerId: 'C-1' });
    const done = await run.start();
    expect(done.__interrupt__).toBeUndefined();
    expect(ran).toEqual(['lookupCustomer C-1']);
    expect(lastText(done)).toBe('Tools said: lookupCustomer: customer C-1: Pat');
    expect(await outcomeOf(h, run.escalationId)).toMatchObject({ success: true, action_type: 'crm.read' });
    expect((await h.sql`select status, tier from escalations where id = ${run.escalationId}`)[0]).toEqual({ status: 'allowed', tier: 'autonomous' });
    expect(cardsFor(h, run.escalationId)).toHaveLength(0);
  });

  it("rejects a call the policy denies with the rule's reason, without a card", async () => {
    ran = [];
    const run = agentCalling('deleteCustomer', { customerId: 'C-1' });
    await run.start();
    const resume = await countersignResume(run.agent, run.config, h.client, opts);
    const done = await run.agent.invoke(new Command({ resume: resume! }), run.config);
    expect(ran).toEqual([]);
    expect(lastText(done)).toContain('Countersign did not approve deleteCustomer: the support agent never deletes data.');
    expect(cardsFor(h, run.escalationId)).toHaveLength(0);
  });

  it('asks once per tool call: resuming twice for the same call (and the tool wrapper asking again) gives the same decision and one card', async () => {
    ran = [];
    const run = agentCalling('sendEmail', { to: 'sam@customer.example', body: 'Hello' });
    await run.start();
    const twice = [countersignResume(run.agent, run.config, h.client, opts), countersignResume(run.agent, run.config, h.client, opts)];
    await approve(h, run.escalationId);
    const [a, b] = await Promise.all(twice);
    expect(a).toEqual({ decisions: [{ type: 'approve' }] });
    expect(b).toEqual(a);
    await run.agent.invoke(new Command({ resume: a }), run.config);
    expect(ran).toEqual(['sendEmail sam@customer.example']);
    await outcomeOf(h, run.escalationId);
    expect(cardsFor(h, run.escalationId)).toHaveLength(1);
    expect(await h.sql`select id from escalations where id = ${run.escalationId}`).toHaveLength(1);
  });

  it('refuses to run a gated tool resumed with a hand-made approval while the card is still pending', async () => {
    ran = [];
    const run = agentCalling('sendEmail', { to: 'kim@customer.example', body: 'Hello' }, { ...opts, waitMs: 300 });
    await run.start();
    await h.card(run.escalationId);
    // Code that approves without asking Countersign: the tool wrapper still asks, and nobody has decided.
    const done = await run.agent.invoke(new Command({ resume: { decisions: [{ type: 'approve' }] } }), run.config);
    expect(ran).toEqual([]);
    expect(lastText(done)).toContain('Countersign did not approve sendEmail: no decision within 0 s');
    expect((await h.sql`select status from escalations where id = ${run.escalationId}`)[0]).toEqual({ status: 'pending' });
  });
});
