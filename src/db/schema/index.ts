export * from './escalations.js';
export * from './events.js';
export * from './agent-states.js';
export * from './spend-ledger.js';
export * from './outcomes.js';
export * from './audit-chain.js';
