import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionTypeOf, escalationIdOf, escalationOf, uuidV5 } from '../../src/adapters/tool-call.js';
import { parseEscalation } from '../../src/domain/escalation.js';

const agent = { id: 'support-bot', owner: 'U0OWNER001', model: 'gpt-test' };

describe('a tool call as an escalation', () => {
  it('derives the same escalation id from the same agent and tool-call id, and a different one otherwise', () => {
    expect(escalationIdOf('a', 'call_1')).toBe(escalationIdOf('a', 'call_1'));
    expect(escalationIdOf('a', 'call_1')).not.toBe(escalationIdOf('a', 'call_2'));
    expect(escalationIdOf('a', 'call_1')).not.toBe(escalationIdOf('b', 'call_1'));
  });

  it('computes RFC 9562 version 5 UUIDs (the RFC 4122 test vector for www.example.com in the DNS namespace)', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('names unlisted tools tool.<snake_case> and keeps a mapped type', () => {
    expect(actionTypeOf('issueRefund')).toBe('tool.issue_refund');
    expect(actionTypeOf('send-email')).toBe('tool.send-email');
    expect(actionTypeOf('Ünïcode tool!')).toBe('tool.unicode_tool');
    expect(actionTypeOf('x', { type: 'payments.refund' })).toBe('payments.refund');
  });

  it('maps arguments to params, the mapping to policy fields, and treats an unlisted tool as irreversible', () => {
    const e = escalationOf(
      { toolName: 'refund', toolCallId: 'call_9', args: '{"amountUsd":340,"orderId":"4521"}', executionId: 'run-1', reasoning: 'The customer was double charged.' },
      { agent, tools: { refund: { type: 'payments.refund', issueType: 'refund', summary: (a) => `Refund $${String(a.amountUsd)}` } } },
    );
    expect(e.action).toEqual({ type: 'payments.refund', params: { amountUsd: 340, orderId: '4521' }, reversible: false, summary: 'Refund $340' });
    expect(e).toMatchObject({ issueType: 'refund', executionId: 'run-1', reasoning: 'The customer was double charged.', agent: { id: 'support-bot', owner: 'U0OWNER001', model: 'gpt-test' } });
  });

  it('always builds an escalation the bot accepts, whatever the tool name and ids; only unstorable arguments are refused, naming them', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), fc.string({ minLength: 1, maxLength: 300 }), fc.jsonValue(), fc.string({ maxLength: 300 }), (name, callId, args, run) => {
        const parsed = parseEscalation(escalationOf({ toolName: name, toolCallId: callId, args, executionId: run }, { agent }));
        const refused = parsed.ok ? [] : parsed.errors.filter((e) => !e.path.startsWith('action.params'));
        expect(refused).toEqual([]);
      }),
      { numRuns: 300 },
    );
    expect(parseEscalation(escalationOf({ toolName: 't', toolCallId: 'c', args: { a: 1 }, executionId: '' }, { agent })).ok).toBe(true);
  });
});
