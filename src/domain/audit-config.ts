import { z } from 'zod';
import { DEFAULT_REDACTED_FIELDS, createRedactor, type Redactor } from './redact.js';

/**
 * The `audit` section of the config file: what is masked before anything is
 * stored, logged or shown; where the chain head is anchored; how long records
 * are kept.
 */

const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id like C0123ABCD');

const patternSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_ -]{1,40}$/, 'must be 1–40 letters, digits, spaces, - or _').describe('Shown in the mask as `[name]`.'),
    regex: z.string().min(1).max(500).describe('JavaScript regex source, applied after the built-in detectors. One that does not compile is a config error naming it.'),
  })
  .strict()
  .superRefine((p, ctx) => {
    try {
      new RegExp(p.regex, 'g');
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['regex'], message: `does not compile: ${(err as Error).message}` });
    }
  });

export const retentionSchema = z
  .object({
    days: z.number().int().min(1).optional(),
    months: z.number().int().min(1).optional(),
    years: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((r) => [r.days, r.months, r.years].filter((v) => v !== undefined).length === 1, {
    message: 'needs exactly one of days, months or years',
  });

export const auditConfigSchema = z
  .object({
    redact: z
      .object({
        patterns: z.array(patternSchema).max(50).default([]).describe('Extra patterns to mask.'),
        fields: z
          .array(z.string().min(1).max(100))
          .max(200)
          .default([])
          .describe('Field names (any case) whose whole value is hidden, added to the built-in ones (password, token, ssn, …).'),
      })
      .strict()
      .default({ patterns: [], fields: [] }),
    anchor: z
      .object({
        channel: channelId.describe('Where the chain head is posted: the outside copy `verify --anchors` checks.'),
        everyMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60).describe('How often. A head already anchored is not posted again.'),
      })
      .strict()
      .optional()
      .describe('Absent: no anchoring.'),
    retention: retentionSchema.optional().describe('Exactly one of `days`, `months`, `years`; records older are pruned by the daily retention job (never under 31 days). Absent: kept for ever.'),
  })
  .strict();

export type AuditConfig = z.output<typeof auditConfigSchema>;
export type Retention = z.output<typeof retentionSchema>;

const redactors = new WeakMap<object, Redactor>();
const defaultRedactor = createRedactor();

/** The redactor for a config's `audit.redact`, built once per loaded config. */
export function redactorOf(audit: AuditConfig | undefined): Redactor {
  if (!audit) return defaultRedactor;
  let r = redactors.get(audit);
  if (!r) {
    const { patterns, fields } = audit.redact;
    r = patterns.length === 0 && fields.length === 0 ? defaultRedactor : createRedactor({ patterns, fieldNames: [...DEFAULT_REDACTED_FIELDS, ...fields] });
    redactors.set(audit, r);
  }
  return r;
}

/** The instant before which records are expired, in UTC calendar arithmetic. */
export function retentionCutoff(retention: Retention, now: Date): Date {
  const d = new Date(now.getTime());
  if (retention.days !== undefined) d.setUTCDate(d.getUTCDate() - retention.days);
  if (retention.months !== undefined) d.setUTCMonth(d.getUTCMonth() - retention.months);
  if (retention.years !== undefined) d.setUTCFullYear(d.getUTCFullYear() - retention.years);
  return d;
}
