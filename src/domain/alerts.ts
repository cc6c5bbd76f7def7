import { z } from 'zod';

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
]);

export type AlertJob = z.infer<typeof alertJobSchema>;
