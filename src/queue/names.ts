/** Fixed by the agent contract: agents add jobs to `escalations` under this prefix. */
export const QUEUE_PREFIX = 'countersign';
export const ESCALATIONS_QUEUE = 'escalations';
/**
 * Job name on `escalations` reserved for the card of an escalation already
 * recorded (by `POST /api/authorize`): its data is `{ escalationId }` only.
 */
export const CARD_JOB = 'countersign.card';
/** Job name on the notifications queue: a channel digest (src/flow/channel-digest.ts), data `{ digestId }`. */
export const DIGEST_JOB = 'countersign.digest';
/** Job name on the notifications queue: publish one user's App Home again, data `{ userId }` (coalesced per user; scheduler.ts). */
export const HOME_JOB = 'countersign.home';
/** A digest brought up to date soon after a decision on one of its members: one per digest and debounce window. */
export const DIGEST_REFRESH_JOB = 'countersign.digest_refresh';
/** Internal queues: deadline timers, decision hand-back, agent callbacks, sweeps. */
export const EXPIRIES_QUEUE = 'expiries';
export const NOTIFY_QUEUE = 'notifications';
export const CALLBACKS_QUEUE = 'callbacks';
export const MAINTENANCE_QUEUE = 'maintenance';
export const ALERTS_QUEUE = 'alerts';
export const REVIEWS_QUEUE = 'reviews';
/** Escalation chain steps and shift-handoff re-pings, as delayed jobs. */
export const CHAINS_QUEUE = 'chains';
/** Agents report what happened after they acted here (agent contract). */
export const OUTCOMES_QUEUE = 'outcomes';
/** Review modes: the periodic promotion and demotion check (job `check`). */
export const MODES_QUEUE = 'modes';
/** Batch-review samples and the monthly governance report (src/queue/governance.ts). */
export const GOVERNANCE_QUEUE = 'governance';

/** Redis key holding the decision JSON, for the TypeScript client and agents reading Redis. */
export const decisionKey = (prefix: string, id: string) => `${prefix}:decision:${id}`;
/** Pub/sub channel announcing each decision as it is stored. */
export const decisionsChannel = (prefix: string) => `${prefix}:decisions`;
/** How long a decision stays in Redis (s); the HTTP API keeps it for good. Default 30 days. */
export const DECISION_TTL_SEC = 30 * 24 * 3600;

/** A callback job's id: one per escalation and kind, so a repeat enqueue is a no-op. */
export const callbackJobId = (id: string, kind: 'decision' | 'review') => (kind === 'decision' ? `callback-${id}` : `callback-${id}-${kind}`);
/** The kind a callback job is for, read back from its id. */
export const callbackKindOf = (jobId: string | undefined): 'decision' | 'review' => (jobId?.endsWith('-review') ? 'review' : 'decision');
