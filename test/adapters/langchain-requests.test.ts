import { AIMessage, HumanMessage, ToolMessage } from 'langchain';
import { describe, expect, it } from 'vitest';
import { toolCallOf, toolCallsOfRequest } from '../../src/adapters/langchain.js';

const ai = new AIMessage({
  content: 'Two emails, one lookup.',
  tool_calls: [
    { name: 'sendEmail', args: { to: 'a@x.example', body: 'hi' }, id: 'call_a', type: 'tool_call' },
    { name: 'lookupCustomer', args: { customerId: 'C-1' }, id: 'call_l', type: 'tool_call' },
    { name: 'sendEmail', args: { to: 'b@x.example', body: 'hi' }, id: 'call_b', type: 'tool_call' },
  ],
  usage_metadata: { input_tokens: 30, output_tokens: 12, total_tokens: 42 },
  response_metadata: { model_name: 'gpt-test-1' },
});
const messages = [new HumanMessage('Email both.'), ai];

describe("a LangChain interrupt's action requests as tool calls", () => {
  it('finds each request its own tool call by name and arguments, whatever the key order, so each gets its own escalation', () => {
    const request = {
      actionRequests: [
        { name: 'sendEmail', args: { body: 'hi', to: 'b@x.example' } },
        { name: 'sendEmail', args: { to: 'a@x.example', body: 'hi' } },
      ],
      reviewConfigs: [],
    };
    expect(toolCallsOfRequest(request, messages).map((c) => c.id)).toEqual(['call_b', 'call_a']);
  });

  it('refuses a request no tool call on the last AI message matches, naming it', () => {
    const request = { actionRequests: [{ name: 'sendEmail', args: { to: 'c@x.example', body: 'hi' } }], reviewConfigs: [] };
    expect(() => toolCallsOfRequest(request, messages)).toThrow('actionRequests[0] (sendEmail): no matching tool call on the last AI message');
  });

  it("takes the reasoning, the user's input, the model and the tokens from the messages, and the thread as the execution", () => {
    const call = toolCallOf({ name: 'sendEmail', args: { to: 'a@x.example', body: 'hi' }, id: 'call_a' }, [...messages, new ToolMessage({ content: 'x', tool_call_id: 'call_l' })], 'thread-9');
    expect(call).toEqual({
      toolName: 'sendEmail',
      toolCallId: 'call_a',
      args: { to: 'a@x.example', body: 'hi' },
      executionId: 'thread-9',
      reasoning: 'Two emails, one lookup.',
      input: 'Email both.',
      model: 'gpt-test-1',
      cost: { tokens: 42, usd: 0 },
    });
  });

  it('refuses a tool call without an id: the escalation id is derived from it', () => {
    expect(() => toolCallOf({ name: 'sendEmail', args: {} }, messages, 't')).toThrow('tool call sendEmail: id is missing');
  });
});
