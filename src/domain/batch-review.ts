import { z } from 'zod';
import { count, percent } from './format.js';
import { MONTH_PATTERN } from './governance-report.js';
import { safeText } from './slack-text.js';

/**
 * `/countersign review [agent|all] [percent] [days] [dm|in:thread]`, parsed.
 * Pure; the defaults follow the seed's periodic batch review (5–10% weekly).
 */
export const DEFAULT_PERCENT = 5;
export const DEFAULT_DAYS = 7;
export const MAX_DAYS = 90;

export interface ReviewRequest {
  /** Null: every agent. */
  agentId: string | null;
  percent: number;
  days: number;
  destination: 'dm' | 'thread';
  /** A redraw: the recorded seed and window end of an earlier sample. */
  seed?: string;
  until?: Date;
}

export type ParsedReviewRequest = { ok: true; request: ReviewRequest } | { ok: false; error: string };

export const REVIEW_USAGE = '`/countersign review [agent|all] [percent] [days] [dm|in:thread] [seed:<hex> until:<ISO time>]`, e.g. `/countersign review support-agent 10% 7`';

const fail = (error: string): ParsedReviewRequest => ({ ok: false, error: `${error}\nUsage: ${REVIEW_USAGE}` });

/**
 * Words in any order: a bare number is the percent first, then the days;
 * `10%` is always a percent and `14d` always days; `dm` or `in:thread`
 * picks where the cards go; `seed:` and `until:` redraw a recorded sample;
 * any other word is the agent id (or `all`).
 */
export function parseReviewArgs(args: readonly string[]): ParsedReviewRequest {
  let agentId: string | null | undefined;
  let percent: number | undefined;
  let days: number | undefined;
  let destination: 'dm' | 'thread' = 'dm';
  let seed: string | undefined;
  let until: Date | undefined;
  for (const raw of args) {
    const word = raw.toLowerCase();
    const pct = /^(\d+(?:\.\d+)?)%$/.exec(word);
    const d = /^(\d+(?:\.\d+)?)d(?:ays?)?$/.exec(word);
    const bare = /^\d+(?:\.\d+)?$/.test(word) ? Number(word) : undefined;
    if (word.startsWith('seed:')) {
      seed = word.slice('seed:'.length);
      if (!/^[0-9a-f]{32}$/.test(seed)) return fail(`seed must be the 32 hex characters of a recorded sample (got "${safeText(raw.slice(5), 80)}").`);
    } else if (word.startsWith('until:')) {
      until = new Date(raw.slice('until:'.length));
      if (Number.isNaN(until.getTime())) return fail(`until must be an ISO time like 2026-11-25T09:00:00Z (got "${safeText(raw.slice(6), 80)}").`);
    } else if (word === 'dm') destination = 'dm';
    else if (word === 'in:thread' || word === 'thread') destination = 'thread';
    else if (pct) {
      if (percent !== undefined) return fail(`percent given twice ("${safeText(raw, 80)}").`);
      percent = Number(pct[1]);
    } else if (d) {
      if (days !== undefined) return fail(`days given twice ("${safeText(raw, 80)}").`);
      days = Number(d[1]);
    } else if (bare !== undefined) {
      if (percent === undefined) percent = bare;
      else if (days === undefined) days = bare;
      else return fail(`too many numbers ("${safeText(raw, 80)}"): give a percent and a number of days.`);
    } else if (agentId === undefined) {
      if (raw.length > 200) return fail('agent id is longer than 200 characters.');
      agentId = word === 'all' ? null : raw;
    } else return fail(`unexpected word "${safeText(raw, 80)}".`);
  }
  percent ??= DEFAULT_PERCENT;
  days ??= DEFAULT_DAYS;
  if (!Number.isInteger(percent) || percent < 1 || percent > 100) return fail(`percent must be a whole number from 1 to 100 (got ${percent}).`);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) return fail(`days must be a whole number from 1 to ${MAX_DAYS} (got ${days}).`);
  if (seed !== undefined && until === undefined) return fail('a redraw needs the window end too: add `until:<time>` from the sample.');
  return { ok: true, request: { agentId: agentId ?? null, percent, days, destination, ...(seed ? { seed } : {}), ...(until ? { until } : {}) } };
}

/** The error rate of a sample: incorrect ÷ reviewed, with its counts ("5% (2 incorrect of 40 reviewed)"). */
export function errorRateLine(incorrect: number, reviewed: number): string {
  if (reviewed === 0) return 'no verdicts yet';
  return `${percent(incorrect / reviewed)} (${count(incorrect)} incorrect of ${count(reviewed)} reviewed)`;
}


/** Jobs on the governance queue; ids only (and the schedule's own settings), never secrets. */
export const governanceJobSchema = z.discriminatedUnion('kind', [
  /** Post a sample's progress message and its cards, paced per channel. */
  z.object({ kind: z.literal('post'), sampleId: z.uuid() }),
  /** After a verdict: the item's card shows it. */
  z.object({ kind: z.literal('card'), sampleId: z.uuid(), escalationId: z.uuid() }),
  /** After a verdict: the progress message, and the summary once complete. `reviewed` only names the job. */
  z.object({ kind: z.literal('progress'), sampleId: z.uuid(), reviewed: z.number().int().min(0) }),
  /** A weekly sample for one team channel (from `reviews.weekly`). */
  z.object({
    kind: z.literal('weekly'),
    channel: z.string().min(1),
    agents: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]),
    percent: z.number().int().min(1).max(100),
    days: z.number().int().min(1).max(MAX_DAYS),
  }),
  /**
   * The periodic batch review that comes with exception-only mode: a sample of
   * each exception-only agent that no `reviews.weekly` entry covers, in its alert channel.
   */
  z.object({ kind: z.literal('exception_only') }),
  /**
   * The monthly governance report (from `reports.monthly`). Its scheduler's runs
   * report the month before the run; `month` ("2026-10") names one instead.
   */
  z.object({ kind: z.literal('monthly'), month: z.string().regex(MONTH_PATTERN, 'expected a month like 2026-10').optional() }),
]);
export type GovernanceJob = z.infer<typeof governanceJobSchema>;
