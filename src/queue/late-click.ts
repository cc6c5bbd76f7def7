import { z } from 'zod';

/**
 * A click acknowledged to Slack before its decision committed (Postgres was
 * slower than `slack.decisionAckMs`), kept on the notify queue so that it is
 * recorded even if that commit fails or the process dies: acknowledged means
 * recorded, or queued to be. The deny reason is masked before it is queued
 * (Redis keeps job data in clear text).
 */
export const LATE_CLICK_JOB = 'click';

export const lateClickSchema = z.object({
  escalationId: z.uuid(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  userId: z.string().regex(/^[UW][A-Z0-9]{2,}$/),
  kind: z.enum(['approve', 'deny']),
  reason: z.string().max(3000).nullable(),
  channel: z.string().max(30).optional(),
});
export type LateClick = z.infer<typeof lateClickSchema>;

/** One job per escalation, clicker and kind: Slack's retries of the same click queue it once. */
export const lateClickJobId = (c: Pick<LateClick, 'escalationId' | 'userId' | 'kind'>) => `click-${c.escalationId}-${c.userId}-${c.kind}`;

/**
 * The job waits this long before it tries (ms): the listener's own commit,
 * merely slow, usually settles first, and the job then finds the click
 * recorded and does nothing.
 */
export const LATE_CLICK_DELAY_MS = 5_000;
