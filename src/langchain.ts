/** `countersign/langchain`: Countersign decides the tool calls of a LangChain.js v1 agent (see src/adapters/langchain.ts). */
export * from './adapters/langchain.js';
export type { AdapterOptions, AgentIdentity, ToolPolicyMapping } from './adapters/tool-call.js';
export type { Gate } from './adapters/gate.js';
