import { Usage, type AgentInputItem, type AgentOutputItem, type Model, type ModelRequest, type ModelResponse } from '@openai/agents';

/** One function call the scripted model makes. */
export interface ScriptedCall {
  name: string;
  callId: string;
  args: Record<string, unknown>;
}

const textOf = (output: unknown): string =>
  typeof output === 'string' ? output : typeof output === 'object' && output !== null && 'text' in output ? String((output as { text: unknown }).text) : JSON.stringify(output);

/**
 * An OpenAI Agents `Model` with no network: on its first turn it says what it
 * will do and calls the tool; once the input carries the tool's result (or
 * the rejection that stands for it) it answers with that text, so a test sees
 * exactly what the model was told.
 */
export class ScriptedModel implements Model {
  readonly requests: ModelRequest[] = [];
  constructor(private readonly call: ScriptedCall) {}

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    const input: AgentInputItem[] = Array.isArray(request.input) ? request.input : [];
    const results = input.filter((i) => i.type === 'function_call_result');
    const usage = new Usage({ requests: 1, inputTokens: 40, outputTokens: 10, totalTokens: 50 });
    const say = (text: string): AgentOutputItem => ({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] });
    if (results.length > 0) {
      return { usage, output: [say(`Tools said: ${results.map((r) => `${r.name}: ${textOf(r.output)}`).join(' | ')}`)] };
    }
    return {
      usage,
      output: [
        say(`I will call ${this.call.name}.`),
        { type: 'function_call', callId: this.call.callId, name: this.call.name, arguments: JSON.stringify(this.call.args), status: 'completed' },
      ],
    };
  }

  // The runner streams only with `stream: true`, which these tests never use.
  getStreamedResponse(): AsyncIterable<never> {
    throw new Error('ScriptedModel does not stream');
  }
}
