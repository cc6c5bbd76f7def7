import { randomUUID } from 'node:crypto';
import { Agent, Runner, RunState, setTracingDisabled, tool } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CountersignClient } from '../../src/client/index.js';
import { escalationIdOf } from '../../src/adapters/tool-call.js';
import { countersignExecute, countersignNeedsApproval, resolveInterruptions } from '../../src/openai-agents.js';
import { approve, cardsFor, denyWithReason, outcomeOf, supportAgent as opts } from '../support/adapter-loop.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ScriptedModel, type ScriptedCall } from '../support/scripted-agents-model.js';
import { REDIS_URL } from '../support/services.js';

// No trace leaves the process (there is no API key either: the model is scripted).
setTracingDisabled(true);
const runner = new Runner({ tracingDisabled: true });

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** What the tools did, per test: a tool that ran left its line here. */
let ran: string[];

/** The support agent's tools, gated by Countersign through `gate` (a client of the bot). */
function toolsVia(gate: CountersignClient) {
  return [
    tool({
      name: 'sendEmail',
      description: 'Send an email',
      parameters: z.object({ to: z.string(), body: z.string() }),
      needsApproval: countersignNeedsApproval(gate, opts, 'sendEmail'),
      execute: countersignExecute(gate, opts, 'sendEmail', async ({ to }: { to: string }) => (ran.push(`sendEmail ${to}`), `sent to ${to}`)),
    }),
    tool({
      name: 'lookupCustomer',
      description: 'Look up a customer',
      parameters: z.object({ customerId: z.string() }),
      needsApproval: countersignNeedsApproval(gate, opts, 'lookupCustomer'),
      execute: countersignExecute(gate, opts, 'lookupCustomer', async ({ customerId }: { customerId: string }) => (ran.push(`lookupCustomer ${customerId}`), `customer ${customerId}: Pat`)),
    }),
    tool({
      name: 'deleteCustomer',
      description: 'Delete a customer',
      parameters: z.object({ customerId: z.string() }),
      needsApproval: countersignNeedsApproval(gate, opts, 'deleteCustomer'),
      execute: countersignExecute(gate, opts, 'deleteCustomer', async ({ customerId }: { customerId: string }) => (ran.push(`deleteCustomer ${customerId}`), 'deleted')),
    }),
  ];
}

/** A fresh agent, as a process builds it at start; nothing of a previous run is in it. */
const makeAgent = (model: ScriptedModel, gate: CountersignClient) =>
  new Agent({ name: 'Support Agent', instructions: 'Help the customer.', model, tools: toolsVia(gate) });

function scripted(name: string, args: Record<string, unknown>) {
  const call: ScriptedCall = { name, callId: `call_${randomUUID()}`, args };
  const context = { executionId: `run-${randomUUID().slice(0, 8)}` };
  return { call, context, escalationId: escalationIdOf('support-agent', call.callId) };
}

/** Another process: its own client of the bot, closed after `use`. */
async function inAnotherProcess<T>(use: (gate: CountersignClient) => Promise<T>): Promise<T> {
  const gate = new CountersignClient({ redisUrl: REDIS_URL, prefix: h.prefix });
  try {
    return await use(gate);
  } finally {
    await gate.close();
  }
}

describe('an OpenAI Agents run gated by Countersign', () => {
  it('interrupts, is stored as a string, and resumes in a fresh agent after the card is approved; the tool runs and its outcome is recorded', async () => {
    ran = [];
    const s = scripted('sendEmail', { to: 'pat@customer.example', body: 'Your refund is on its way.' });
    const first = await runner.run(makeAgent(new ScriptedModel(s.call), h.client), 'Please email Pat.', { context: s.context });
    expect(first.interruptions.map((i) => i.name)).toEqual(['sendEmail']);
    expect(ran).toEqual([]);
    // Only the string survives: no agent, model or state object is kept.
    const saved = first.state.toString();

    await h.card(s.escalationId);
    await approve(h, s.escalationId);

    const model = new ScriptedModel(s.call);
    const done = await inAnotherProcess(async (gate) => {
      const agent = makeAgent(model, gate);
      const state = await RunState.fromString(agent, saved);
      const resolution = await resolveInterruptions(state, gate, opts);
      expect(resolution.approved.map((i) => i.name)).toEqual(['sendEmail']);
      expect(resolution.rejected.length + resolution.pending.length).toBe(0);
      return runner.run(agent, state);
    });
    expect(ran).toEqual(['sendEmail pat@customer.example']);
    expect(done.finalOutput).toBe('Tools said: sendEmail: sent to pat@customer.example');
    // The audit trail masks the address (PII), as it does every stored text.
    expect(await outcomeOf(h, s.escalationId)).toMatchObject({ success: true, output: 'sent to p***@customer.example', action_type: 'email.send', execution_id: s.context.executionId });
    expect((await h.sql`select status, execution_id from escalations where id = ${s.escalationId}`)[0]).toEqual({ status: 'approved', execution_id: s.context.executionId });
    expect(cardsFor(h, s.escalationId)).toHaveLength(1);
  });

  it("rejects a call the person denied, and the model reads the person's reason instead of a tool result", async () => {
    ran = [];
    const s = scripted('sendEmail', { to: 'pat@customer.example', body: 'Here is the other customer’s invoice.' });
    const first = await runner.run(makeAgent(new ScriptedModel(s.call), h.client), 'Please email Pat.', { context: s.context });
    const saved = first.state.toString();
    await denyWithReason(h, s.escalationId, 'that invoice belongs to another customer');

    const model = new ScriptedModel(s.call);
    const agent = makeAgent(model, h.client);
    const state = await RunState.fromString(agent, saved);
    expect((await resolveInterruptions(state, h.client, opts)).rejected).toHaveLength(1);
    const done = await runner.run(agent, state);
    expect(ran).toEqual([]);
    expect(done.finalOutput).toMatch(/^Tools said: sendEmail: Countersign did not approve sendEmail: that invoice belongs to another customer\./);
    expect((await h.sql`select status from escalations where id = ${s.escalationId}`)[0]).toEqual({ status: 'denied' });
  });

  it('lets an autonomous call run at once: no interruption, no card, and its outcome is recorded', async () => {
    ran = [];
    const s = scripted('lookupCustomer', { customerId: 'C-1' });
    const done = await runner.run(makeAgent(new ScriptedModel(s.call), h.client), 'Who is C-1?', { context: s.context });
    expect(done.interruptions).toEqual([]);
    expect(ran).toEqual(['lookupCustomer C-1']);
    expect(done.finalOutput).toBe('Tools said: lookupCustomer: customer C-1: Pat');
    expect(await outcomeOf(h, s.escalationId)).toMatchObject({ success: true, action_type: 'crm.read' });
    expect((await h.sql`select status, tier from escalations where id = ${s.escalationId}`)[0]).toEqual({ status: 'allowed', tier: 'autonomous' });
    expect(cardsFor(h, s.escalationId)).toHaveLength(0);
  });

  it("rejects a call the policy denies with the rule's reason, without a card", async () => {
    ran = [];
    const s = scripted('deleteCustomer', { customerId: 'C-1' });
    const agent = makeAgent(new ScriptedModel(s.call), h.client);
    const first = await runner.run(agent, 'Delete C-1.', { context: s.context });
    expect((await resolveInterruptions(first.state, h.client, opts)).rejected).toHaveLength(1);
    const done = await runner.run(agent, first.state);
    expect(ran).toEqual([]);
    expect(done.finalOutput).toContain('Countersign did not approve deleteCustomer: the support agent never deletes data.');
    expect(cardsFor(h, s.escalationId)).toHaveLength(0);
  });

  it('asks once per tool call: two resumes from the same stored state (and the tool asking again) give the same decision and one card', async () => {
    ran = [];
    const s = scripted('sendEmail', { to: 'sam@customer.example', body: 'Hello' });
    const saved = (await runner.run(makeAgent(new ScriptedModel(s.call), h.client), 'Email Sam.', { context: s.context })).state.toString();
    const resume = async () => {
      const agent = makeAgent(new ScriptedModel(s.call), h.client);
      const state = await RunState.fromString(agent, saved);
      return { agent, state, resolution: await resolveInterruptions(state, h.client, opts) };
    };
    const both = Promise.all([resume(), resume()]);
    await approve(h, s.escalationId);
    const [a, b] = await both;
    expect(a.resolution.approved).toHaveLength(1);
    expect(b.resolution.approved).toHaveLength(1);
    await runner.run(a.agent, a.state);
    expect(ran).toEqual(['sendEmail sam@customer.example']);
    await outcomeOf(h, s.escalationId);
    expect(cardsFor(h, s.escalationId)).toHaveLength(1);
  });

  it('leaves an undecided interruption pending (the state stays resumable) instead of rejecting it when the wait ends', async () => {
    const s = scripted('sendEmail', { to: 'lee@customer.example', body: 'Hello' });
    const first = await runner.run(makeAgent(new ScriptedModel(s.call), h.client), 'Email Lee.', { context: s.context });
    await h.card(s.escalationId);
    const resolution = await resolveInterruptions(first.state, h.client, { ...opts, waitMs: 300 });
    expect(resolution).toMatchObject({ approved: [], rejected: [] });
    expect(resolution.pending.map((i) => i.name)).toEqual(['sendEmail']);
    expect((await h.sql`select status from escalations where id = ${s.escalationId}`)[0]).toEqual({ status: 'pending' });
  });

  it('refuses to run a gated tool approved by hand while the card is still pending', async () => {
    ran = [];
    const s = scripted('sendEmail', { to: 'kim@customer.example', body: 'Hello' });
    const agent = makeAgent(new ScriptedModel(s.call), h.client);
    const first = await runner.run(agent, 'Email Kim.', { context: s.context });
    await h.card(s.escalationId);
    // Code that approves without asking Countersign: the wrapped execute still asks, and nobody has decided.
    for (const item of first.interruptions) first.state.approve(item);
    const guarded = { ...opts, waitMs: 300 };
    const strictAgent = new Agent({
      name: 'Support Agent',
      instructions: 'Help the customer.',
      model: new ScriptedModel(s.call),
      tools: [
        tool({
          name: 'sendEmail',
          description: 'Send an email',
          parameters: z.object({ to: z.string(), body: z.string() }),
          needsApproval: countersignNeedsApproval(h.client, guarded, 'sendEmail'),
          execute: countersignExecute(h.client, guarded, 'sendEmail', async ({ to }: { to: string }) => (ran.push(`sendEmail ${to}`), `sent to ${to}`)),
        }),
      ],
    });
    const done = await runner.run(strictAgent, await RunState.fromString(strictAgent, first.state.toString()));
    expect(ran).toEqual([]);
    expect(done.finalOutput).toContain('Countersign did not approve sendEmail: no decision within 0 s');
  });
});
