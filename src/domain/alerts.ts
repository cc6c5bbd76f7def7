import { z } from 'zod';
import { MODES } from './modes.js';

/** Alert jobs carry ids and figures only: Redis keeps job data in clear text. */
export const alertJobSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('budget_threshold'),
    agentId: z.string().nullable(),
    window: z.enum(['task', 'day', 'week', 'month']),
    windowKey: z.string(),
    level: z.number(),
    basis: z.enum(['cap', 'projection']),
    totalMicros: z.number(),
    capMicros: z.number().nullable(),
  }),
  z.object({ kind: z.literal('agent_paused'), agentId: z.string(), reason: z.string() }),
  z.object({ kind: z.literal('config_invalid'), error: z.string(), keptVersion: z.string() }),
  // A card that will not go out: the escalation waits, uncarded, for its deadline's fail-safe deny.
  z.object({
    kind: z.literal('card_post_failed'),
    escalationId: z.uuid(),
    agentId: z.string().nullable(),
    /** Where the card should have gone (`channel` in the alert's record is where the alert went). */
    cardChannel: z.string().nullable(),
    /** Slack's error code, or the transport's reason. */
    error: z.string(),
  }),
  // Review modes (src/flow/promotion.ts): figures only, the cards are built from them.
  z.object({
    kind: z.literal('mode_demoted'),
    agentId: z.string(),
    scope: z.string(),
    from: z.enum(MODES),
    to: z.enum(MODES),
    reason: z.string(),
    /** Also told by DM, when known. */
    ownerId: z.string().nullable(),
  }),
  z.object({
    kind: z.literal('mode_promotion_proposed'),
    agentId: z.string(),
    proposalId: z.uuid(),
    scope: z.string(),
    from: z.enum(MODES),
    to: z.enum(MODES),
    actions: z.number().int(),
    errors: z.number().int(),
    /** The bar met, in words (also shown to users in `/countersign agent`). */
    bar: z.string(),
  }),
]);

export type AlertJob = z.infer<typeof alertJobSchema>;
