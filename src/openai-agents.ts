/** `countersign/openai-agents`: Countersign decides the tool calls of an OpenAI Agents JS agent (see src/adapters/openai-agents.ts). */
export * from './adapters/openai-agents.js';
export type { AdapterOptions, AgentIdentity, ToolPolicyMapping } from './adapters/tool-call.js';
export type { Gate } from './adapters/gate.js';
