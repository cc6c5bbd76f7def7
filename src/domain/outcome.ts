import { z } from 'zod';
import { costSchema } from './escalation.js';

export const OUTCOME_SCHEMA_VERSION = 1;

/**
 * The agent's report after it executed (or failed to execute) an action, on
 * the `outcomes` queue. Its cost is this step's own, not the running total.
 */
export const outcomeSchema = z
  .object({
    version: z.literal(OUTCOME_SCHEMA_VERSION),
    /** The report's id (UUID, also the jobId): reporting twice is a no-op. */
    id: z.uuid(),
    escalationId: z.uuid().optional(),
    executionId: z.string().min(1).max(200),
    agentId: z.string().min(1).max(200),
    actionType: z.string().min(1).max(100),
    /** Same step across retries; defaults to the action type. */
    step: z.string().min(1).max(200).optional(),
    success: z.boolean(),
    output: z.string().max(20_000).optional(),
    error: z.string().max(20_000).optional(),
    cost: costSchema,
  })
  .strict();

export type OutcomeReport = z.output<typeof outcomeSchema>;
