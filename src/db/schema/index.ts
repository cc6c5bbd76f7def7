export * from './escalations.js';
export * from './events.js';
