import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createUpstreamServer, type ToolRun } from '../../../examples/mcp/upstream-server.js';
import { McpGateway, toolCallIdOf, IDEMPOTENCY_META_KEY } from '../../../src/adapters/mcp-gateway/proxy.js';
import type { Gate } from '../../../src/adapters/gate.js';
import type { DecisionMessage } from '../../../src/domain/decision.js';
import type { AuthorizeAnswer } from '../../../src/flow/answer.js';
import type { EscalationInput } from '../../../src/domain/escalation.js';
import { escalationIdOf } from '../../../src/adapters/tool-call.js';

/**
 * The proxy alone, wired in memory to the example server, with a Gate whose
 * answers the test gives: what the gateway does when Countersign cannot be
 * asked, and when the client gives up while waiting. (The whole loop
 * against the real bot is gateway.test.ts.)
 */

const agent = { id: 'support-agent', owner: 'U0AGENTOWNR' };
const config = { tools: {}, waitMs: 60_000, progressMs: 10_000, confidence: 0.9, upstream: { args: [], env: {}, headers: {}, timeoutSeconds: 60 } };

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

async function connect(gate: Gate, extra: Pick<ConstructorParameters<typeof McpGateway>[0], 'enrich'> = {}): Promise<{ client: Client; ran: ToolRun[] }> {
  const ran: ToolRun[] = [];
  const [upA, upB] = InMemoryTransport.createLinkedPair();
  await createUpstreamServer((r) => ran.push(r)).connect(upB);
  const upstream = new Client({ name: 'gw', version: '1' });
  await upstream.connect(upA);
  const gateway = new McpGateway({ config, gate, upstream, warn: () => {}, ...extra });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await gateway.session(agent, 'session-1').connect(b);
  const client = new Client({ name: 'agent', version: '1' });
  await client.connect(a);
  closers.push(async () => {
    await client.close();
    await gateway.close();
  });
  return { client, ran };
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('the tool-call id', () => {
  it('is the client’s idempotency key when given, else the session and the JSON-RPC request id (typed)', () => {
    expect(toolCallIdOf('s1', 7, { [IDEMPOTENCY_META_KEY]: 'k-1' })).toBe('key:k-1');
    expect(toolCallIdOf('s2', 8, { [IDEMPOTENCY_META_KEY]: 'k-1' })).toBe('key:k-1');
    expect(toolCallIdOf('s1', 7, undefined)).toBe('mcp:s1:number:7');
    expect(toolCallIdOf('s1', '7', {})).not.toBe(toolCallIdOf('s1', 7, {}));
    expect(toolCallIdOf('s2', 7, {})).not.toBe(toolCallIdOf('s1', 7, {}));
    expect(toolCallIdOf('s1', 7, { [IDEMPOTENCY_META_KEY]: '  ' })).toBe('mcp:s1:number:7');
  });
});

describe('the MCP gateway, failing closed', () => {
  it('refuses the call with a tool error when Countersign cannot be asked, and never runs the tool', async () => {
    const gate: Gate = {
      authorize: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
      waitForDecision: () => Promise.reject(new Error('not asked')),
      reportOutcome: () => Promise.reject(new Error('not asked')),
    };
    const { client, ran } = await connect(gate);
    const r = (await client.callTool({ name: 'refund', arguments: { orderId: '1', amountUsd: 10 } })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toContain('Countersign could not be asked (connect ECONNREFUSED 127.0.0.1:6379); the call was not run');
    expect(ran).toEqual([]);
  });

  it('stops waiting when the client cancels, and does not run the tool when the approval comes later', async () => {
    let decide!: (m: DecisionMessage) => void;
    const asked: string[] = [];
    const gate: Gate = {
      authorize: async (e) => {
        asked.push(e.action.type);
        return (e.action.type === 'tool.refund' ? { decision: 'pending', escalationId: e.id } : { decision: 'allow', escalationId: e.id }) as AuthorizeAnswer;
      },
      waitForDecision: () => new Promise<DecisionMessage>((resolve) => (decide = resolve)),
      reportOutcome: async (r) => ({ id: r.id }),
    };
    const { client, ran } = await connect(gate);
    const abort = new AbortController();
    const call = client.callTool({ name: 'refund', arguments: { orderId: '2', amountUsd: 900 } }, undefined, { signal: abort.signal });
    await expect.poll(() => decide).toBeDefined();
    abort.abort(new Error('the user gave up'));
    await expect(call).rejects.toThrow('the user gave up');
    decide({ escalationId: 'x', status: 'approved', proceed: true } as unknown as DecisionMessage);
    // One more round trip through the gateway: anything the late approval set off has happened by its answer.
    await client.callTool({ name: 'lookup_order', arguments: { orderId: '3' } });
    expect(ran).toEqual([{ tool: 'lookup_order', args: { orderId: '3' } }]);
    expect(asked).toEqual(['tool.refund', 'tool.lookup_order']);
  });
});

describe('the MCP gateway, embedded', () => {
  it('passes each escalation through the enrich hook before asking, and maps the call onto it', async () => {
    const sent: EscalationInput[] = [];
    const gate: Gate = {
      authorize: async (e) => {
        sent.push(e);
        return { decision: 'allow', escalationId: e.id } as AuthorizeAnswer;
      },
      waitForDecision: () => Promise.reject(new Error('not asked')),
      reportOutcome: async (r) => ({ id: r.id }),
    };
    const { client } = await connect(gate, { enrich: (e) => ({ ...e, reasoning: 'The customer asked about order 4521.' }) });
    await client.callTool({ name: 'lookup_order', arguments: { orderId: '4521' }, _meta: { [IDEMPOTENCY_META_KEY]: 'k-9' } });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      id: escalationIdOf('support-agent', 'key:k-9'),
      executionId: 'mcp:session-1',
      action: { type: 'tool.lookup_order', params: { orderId: '4521' }, reversible: false },
      reasoning: 'The customer asked about order 4521.',
    });
  });
});
