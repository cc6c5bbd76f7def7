/** The package's public surface for agent developers. */
export { CountersignClient, approvedParams, type ClientOptions } from './client/index.js';
export {
  escalationSchema,
  parseEscalation,
  ESCALATION_SCHEMA_VERSION,
  type Escalation,
  type EscalationInput,
} from './domain/escalation.js';
export type { Approval, DecisionMessage, Status } from './domain/decision.js';
export { verifyCallback, signCallback } from './domain/callback-signature.js';
export { ESCALATIONS_QUEUE, QUEUE_PREFIX } from './queue/names.js';
export { CountersignError, TimeoutError, ErrorCode } from './errors.js';
