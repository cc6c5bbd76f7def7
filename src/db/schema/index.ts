export * from './escalations.js';
export * from './events.js';
export * from './agent-states.js';
export * from './spend-ledger.js';
export * from './outcomes.js';
export * from './audit-chain.js';
export * from './review-samples.js';
export * from './review-sample-items.js';
