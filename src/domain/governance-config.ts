import { IANAZone } from 'luxon';
import { z } from 'zod';
import { DEFAULT_DAYS, DEFAULT_PERCENT, MAX_DAYS } from './batch-review.js';

const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id like C0123ABCD');
/** Five cron fields (minute hour day-of-month month day-of-week), or six with seconds first, as BullMQ's cron parser reads them. */
const cron = z
  .string()
  .trim()
  .refine((s) => [5, 6].includes(s.split(/\s+/).length) && /^[\d*/,\-A-Za-z?LW# ]+$/.test(s), 'must be a cron pattern like "0 9 * * MON"');
const timezone = z.string().refine((tz) => IANAZone.isValidZone(tz), 'must be an IANA time zone like Europe/Berlin');

/** One team channel's weekly batch review: a sample of `agents`' executed actions, posted in a thread there. */
export const weeklyReviewSchema = z
  .object({
    channel: channelId.describe('Where the sample goes, one thread per agent; one entry per channel.'),
    agents: z
      .union([z.literal('all'), z.array(z.string().min(1).max(200)).min(1)])
      .default('all')
      .describe('Agent ids to sample, one sample each; `all`: one sample across every agent.'),
    percent: z.number().int().min(1).max(100).default(DEFAULT_PERCENT).describe('Share of the executed actions drawn (the seed suggests 5–10%).'),
    days: z.number().int().min(1).max(MAX_DAYS).default(DEFAULT_DAYS).describe('Days back from the run (7: the week since the last run).'),
    cron: cron.default('0 9 * * MON').describe('When it runs: BullMQ cron, 5 fields, or 6 with seconds first.'),
    tz: timezone.default('UTC').describe('IANA zone of the cron.'),
  })
  .strict();

export const reviewsSchema = z
  .object({ weekly: z.array(weeklyReviewSchema).default([]) })
  .strict()
  .superRefine((r, ctx) => {
    const seen = new Map<string, number>();
    r.weekly.forEach((w, i) => {
      const prev = seen.get(w.channel);
      if (prev !== undefined) ctx.addIssue({ code: 'custom', path: ['weekly', i, 'channel'], message: `duplicates weekly[${prev}].channel: one weekly sample per channel` });
      seen.set(w.channel, i);
    });
  });

/** The monthly governance review, posted to `channel`; by default at 09:00 on the 1st, for the month before. */
export const monthlyReportSchema = z
  .object({
    channel: channelId.describe('Where the report is posted, a section per agent.'),
    cron: cron.default('0 9 1 * *').describe('When it runs (BullMQ cron); the report covers the calendar month before the run.'),
    tz: timezone.default('UTC').describe('IANA zone of the cron and of the month.'),
  })
  .strict();

export const reportsSchema = z.object({ monthly: monthlyReportSchema.optional() }).strict();

export type WeeklyReview = z.output<typeof weeklyReviewSchema>;
export type MonthlyReport = z.output<typeof monthlyReportSchema>;

/**
 * Exception-only agents come with periodic batch review (the seed's last stage):
 * those that no `reviews.weekly` entry samples get Countersign's own weekly sample.
 */
export function uncoveredExceptionOnly(agents: ReadonlyArray<{ agentId: string; mode: string }>, weekly: readonly WeeklyReview[]): string[] {
  if (weekly.some((w) => w.agents === 'all')) return [];
  const covered = new Set(weekly.flatMap((w) => (w.agents === 'all' ? [] : w.agents)));
  return agents.filter((a) => a.mode === 'exception_only' && !covered.has(a.agentId)).map((a) => a.agentId);
}
