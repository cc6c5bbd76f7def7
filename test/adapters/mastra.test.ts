import { randomUUID } from 'node:crypto';
import { Agent } from '@mastra/core/agent';
import { Mastra } from '@mastra/core/mastra';
import { InMemoryStore } from '@mastra/core/storage';
import { MastraLanguageModelV2Mock } from '@mastra/core/test-utils/llm-mock';
import { createTool } from '@mastra/core/tools';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { countersign, type MastraOptions } from '../../src/adapters/mastra.js';
import { escalationIdOf } from '../../src/adapters/tool-call.js';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { cardsFor, denyWithReason } from '../support/adapter-clicks.js';
import { APPROVER, OWNER, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';

// Mastra reports usage to PostHog unless told not to: no network in tests.
vi.stubEnv('MASTRA_TELEMETRY_DISABLED', '1');

let h: Harness;
withBotAndCallbacks((bot: { h: Harness; cb: CallbackServer }) => ({ h } = bot));

// The example config's support agent: crm.read is autonomous, refunds over
// $500 need a person, over $5,000 are denied by rule.
const AGENT = 'support-agent';
const identity = { id: AGENT, name: 'Support Agent', owner: OWNER };
const mapping: MastraOptions['tools'] = {
  refund: { type: 'payments.refund', issueType: 'refund', summary: (a) => `Refund $${String(a.amountUsd)} for order #${String(a.orderId)}` },
  lookupCustomer: { type: 'crm.read', issueType: 'support', reversible: true },
};

const usage = { inputTokens: 10, outputTokens: 5, totalTokens: 15 };
const streamOf = (parts: unknown[]) => ({
  stream: new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  }),
});

/** A scripted model (Mastra's own mock): first it says why and calls one tool, then, once it has a tool result, it answers in words. */
function scriptedModel(toolName: string, toolCallId: string, input: Record<string, unknown>) {
  return new MastraLanguageModelV2Mock({
    doStream: async ({ prompt }) =>
      streamOf(
        prompt.some((m) => m.role === 'tool')
          ? [
              { type: 'stream-start', warnings: [] },
              { type: 'text-start', id: 't2' },
              { type: 'text-delta', id: 't2', delta: ' All done.' },
              { type: 'text-end', id: 't2' },
              { type: 'finish', finishReason: 'stop', usage },
            ]
          : [
              { type: 'stream-start', warnings: [] },
              { type: 'text-start', id: 't1' },
              { type: 'text-delta', id: 't1', delta: 'The customer was charged twice for order 4521.' },
              { type: 'text-end', id: 't1' },
              { type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) },
              { type: 'finish', finishReason: 'tool-calls', usage },
            ],
      ),
  });
}

/** A Mastra agent (with in-memory storage for its suspended runs) holding the two tools; `ran` records executions. With `crmDown`, the lookup throws. */
function agentWith(model: MastraLanguageModelV2Mock, crmDown = false) {
  const ran: Array<{ tool: string; input: unknown }> = [];
  const refund = createTool({
    id: 'refund',
    description: 'Refund an order',
    inputSchema: z.object({ amountUsd: z.number(), orderId: z.string() }),
    execute: async (input) => {
      ran.push({ tool: 'refund', input });
      return { refunded: input.amountUsd };
    },
  });
  const lookupCustomer = createTool({
    id: 'lookupCustomer',
    description: 'Read a customer record',
    inputSchema: z.object({ customerId: z.string() }),
    execute: async (input) => {
      ran.push({ tool: 'lookupCustomer', input });
      if (crmDown) throw new Error('CRM timed out');
      return { name: 'Ada' };
    },
  });
  const mastra = new Mastra({
    agents: { support: new Agent({ id: AGENT, name: 'Support Agent', instructions: 'Help customers.', model, tools: { refund, lookupCustomer } }) },
    storage: new InMemoryStore(),
    logger: false,
  });
  return { agent: mastra.getAgent('support'), ran };
}

const callId = () => `call_${randomUUID().slice(0, 12)}`;
const prompt = 'Please refund my double charge on order 4521.';

async function outcomeOf(escalationId: string) {
  return eventually(async () => (await h.sql<{ success: boolean; output: string | null; execution_id: string; action_type: string }[]>`
    select success, output, execution_id, action_type from outcomes where escalation_id = ${escalationId}`)[0], 'outcome row');
}

describe('the Mastra adapter (approveToolCall / declineToolCall)', () => {
  it('keeps the run suspended until the signed approval, approves the call, runs the tool and records its outcome', async () => {
    const id = callId();
    const model = scriptedModel('refund', id, { amountUsd: 600, orderId: '4521' });
    const { agent, ran } = agentWith(model);
    const cs = countersign({ gate: h.client, agent: identity, tools: mapping });
    const running = cs.drive(agent, await agent.stream(prompt, cs.streamOptions), { input: prompt });

    const escalationId = escalationIdOf(AGENT, id);
    const card = await h.card(escalationId);
    expect(JSON.stringify(card.blocks)).toContain('Refund $600 for order #4521');
    expect(ran).toEqual([]);
    expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);

    const run = await running;
    expect(ran).toEqual([{ tool: 'refund', input: { amountUsd: 600, orderId: '4521' } }]);
    expect(await run.output.text).toContain('All done.');
    const [row] = await h.sql`select status, decided_by, execution_id, request->>'reasoning' as reasoning, request->'trigger'->>'input' as input, request->'agent'->>'model' as model
      from escalations where id = ${escalationId}`;
    expect(row).toEqual({ status: 'approved', decided_by: APPROVER, execution_id: run.runId, reasoning: 'The customer was charged twice for order 4521.', input: prompt, model: 'mock-provider/mock-model-id' });
    expect(await outcomeOf(escalationId)).toEqual({ success: true, output: '{"refunded":600}', execution_id: run.runId, action_type: 'payments.refund' });
    expect(cardsFor(h, escalationId)).toHaveLength(1);
  });

  it('declines with the approver’s reason, which the model reads, and never runs the tool', async () => {
    const id = callId();
    const model = scriptedModel('refund', id, { amountUsd: 700, orderId: '4521' });
    const { agent, ran } = agentWith(model);
    const cs = countersign({ gate: h.client, agent: identity, tools: mapping });
    const running = cs.drive(agent, await agent.stream(prompt, cs.streamOptions));

    const escalationId = escalationIdOf(AGENT, id);
    expect((await denyWithReason(h, await h.card(escalationId), APPROVER, 'already refunded in the store')).status).toBe(200);
    const run = await running;
    await run.output.text;
    expect(ran).toEqual([]);
    expect(JSON.stringify(model.doStreamCalls.at(-1)!.prompt)).toContain('already refunded in the store');
    expect(await h.sql`select 1 from outcomes where escalation_id = ${escalationId}`).toHaveLength(0);
  });

  it('approves an autonomous call at once, with no card, and records it and its outcome', async () => {
    const id = callId();
    const { agent, ran } = agentWith(scriptedModel('lookupCustomer', id, { customerId: 'C-1' }));
    const cs = countersign({ gate: h.client, agent: identity, tools: mapping });
    const run = await cs.drive(agent, await agent.stream('Who is C-1?', cs.streamOptions));

    const escalationId = escalationIdOf(AGENT, id);
    expect(ran).toEqual([{ tool: 'lookupCustomer', input: { customerId: 'C-1' } }]);
    expect(await run.output.text).toContain('All done.');
    const [row] = await h.sql`select status, decided_by, tier from escalations where id = ${escalationId}`;
    expect(row).toEqual({ status: 'allowed', decided_by: 'policy', tier: 'autonomous' });
    expect(await outcomeOf(escalationId)).toMatchObject({ success: true, action_type: 'crm.read' });
    expect(cardsFor(h, escalationId)).toHaveLength(0);
  });

  it('reports a tool that throws as a failed outcome, with its error', async () => {
    const id = callId();
    const { agent } = agentWith(scriptedModel('lookupCustomer', id, { customerId: 'C-1' }), true);
    const cs = countersign({ gate: h.client, agent: identity, tools: mapping });
    await (await cs.drive(agent, await agent.stream('Who is C-1?', cs.streamOptions))).output.text;
    const escalationId = escalationIdOf(AGENT, id);
    const row = await eventually(async () => (await h.sql`select success, error from outcomes where escalation_id = ${escalationId}`)[0], 'outcome row');
    expect(row).toMatchObject({ success: false });
    expect(String(row.error)).toContain('CRM timed out');
  });

  it('declines a call the policy denies with the rule’s reason, with no card and no run', async () => {
    const id = callId();
    const model = scriptedModel('refund', id, { amountUsd: 6000, orderId: '4521' });
    const { agent, ran } = agentWith(model);
    const cs = countersign({ gate: h.client, agent: identity, tools: mapping });
    await (await cs.drive(agent, await agent.stream(prompt, cs.streamOptions))).output.text;

    expect(ran).toEqual([]);
    expect(JSON.stringify(model.doStreamCalls.at(-1)!.prompt)).toContain('refunds over $5,000 go through finance, not agents');
    expect(cardsFor(h, escalationIdOf(AGENT, id))).toHaveLength(0);
  });

  it('leaves the run suspended (pending: suspend), asks once for the same call, and resumes from a new adapter once approved', async () => {
    const id = callId();
    const executionId = `task-${randomUUID().slice(0, 8)}`;
    const { agent, ran } = agentWith(scriptedModel('refund', id, { amountUsd: 800, orderId: '4521' }));
    const opts: MastraOptions = { gate: h.client, agent: identity, tools: mapping, executionId, pending: 'suspend' };
    const cs = countersign(opts);
    const first = await cs.drive(agent, await agent.stream(prompt, cs.streamOptions));
    const escalationId = escalationIdOf(AGENT, id);
    expect(first.suspended).toEqual({ runId: first.runId, toolCallId: id, toolName: 'refund', escalationId });

    // The same tool call asked about again (a retried run): the same escalation, one card.
    const again = await cs.drive(agent, await agent.stream(prompt, cs.streamOptions));
    expect(again.suspended?.escalationId).toBe(escalationId);
    const card = await h.card(escalationId);
    expect(cardsFor(h, escalationId)).toHaveLength(1);
    expect(ran).toEqual([]);

    await h.click(APPROVER, 'countersign.approve', card);
    const later = countersign(opts);
    const resumed = await later.resume(agent, { runId: first.runId, toolCallId: id, toolName: 'refund' });
    expect(await resumed.output.text).toContain('All done.');
    expect(ran).toEqual([{ tool: 'refund', input: { amountUsd: 800, orderId: '4521' } }]);
    expect(await outcomeOf(escalationId)).toMatchObject({ success: true, execution_id: executionId });
    expect(cardsFor(h, escalationId)).toHaveLength(1);
  });

  it('refuses in the hook an approval given outside Countersign (approveToolCall called directly), and the model reads why', async () => {
    const id = callId();
    const model = scriptedModel('refund', id, { amountUsd: 6500, orderId: '4521' });
    const { agent, ran } = agentWith(model);
    const cs = countersign({ gate: h.client, agent: identity, tools: mapping });
    const stream = await agent.stream(prompt, cs.streamOptions);
    await stream.text;
    const bypass = await agent.approveToolCall({ runId: stream.runId, toolCallId: id, ...cs.streamOptions });
    await bypass.text;
    expect(ran).toEqual([]);
    expect(await h.sql`select 1 from outcomes where escalation_id = ${escalationIdOf(AGENT, id)}`).toHaveLength(0);
    expect(JSON.stringify(model.doStreamCalls.at(-1)!.prompt)).toContain('refunds over $5,000 go through finance, not agents');
  });
});
