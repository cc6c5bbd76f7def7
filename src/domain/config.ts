import { z } from 'zod';
import { slackUserId, urgencySchema } from './escalation.js';
import { policySchema } from './policy/schema.js';
import { reportsSchema, reviewsSchema } from './governance-config.js';
import { auditConfigSchema } from './audit-config.js';
import { chainSchema } from './escalation-chain.js';
import { scheduleSchema } from './schedule/schema.js';

/** Slack channel ids: C (public), G (private or legacy group), D (DM). */
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id like C0123ABCD');
const usergroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id like S0123ABCD');

export const approversSchema = z
  .object({
    users: z.array(slackUserId).default([]),
    usergroup: usergroupId.optional(),
  })
  .strict()
  .refine((a) => a.users.length > 0 || a.usergroup !== undefined, {
    message: 'needs at least one of users or usergroup',
  });

const scheduleName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, - or _');

/**
 * What a route takes. Every listed criterion must hold (AND); within a list,
 * any entry may (OR). Issue types, agents and action types accept globs
 * (`payments.*`: `*` stops at a dot, `**` does not); without a wildcard they
 * compare exactly. Labels must all be present with these values.
 */
export const matchSchema = z
  .object({
    issueTypes: z.array(z.string().min(1)).min(1).optional(),
    agents: z.array(z.string().min(1)).min(1).optional(),
    actionTypes: z.array(z.string().min(1)).min(1).optional(),
    urgency: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(urgencySchema).min(1)).optional(),
    labels: z.record(z.string().min(1).max(100), z.string().max(200)).optional(),
  })
  .strict()
  .refine((m) => Object.values(m).some((v) => v !== undefined), {
    message: 'needs at least one of issueTypes, agents, actionTypes, urgency or labels (omit match for the default route)',
  });

export const routeSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, - or _'),
    /** Rules this route takes; a route without `match` is the default. */
    match: matchSchema.optional(),
    channel: channelId,
    approvers: approversSchema,
    /** Names in the top-level `schedules` map, in paging order: the first gives the primary. */
    schedules: z.array(scheduleName).default([]),
    /** Steps that reach further people while nobody decides (run by the chain worker). */
    chain: chainSchema.optional(),
  })
  .strict();

/**
 * A schedule in the top-level `schedules` map; its key is its name. `ical`
 * is a file (relative to the config file) whose events become overrides,
 * read when the config loads.
 */
export const configScheduleSchema = scheduleSchema.omit({ name: true }).extend({ ical: z.string().min(1).optional() }).strict();

export const configSchema = z
  .object({
    version: z.literal(1).default(1),
    defaults: z
      .object({
        /** Minutes an escalation waits before it expires with the fail-safe outcome (deny). */
        deadlineMinutes: z.number().int().min(1).max(60 * 24 * 30).default(60),
      })
      .strict()
      .default({ deadlineMinutes: 60 }),
    slack: z
      .object({
        /** Slack allows about one chat.postMessage a second per channel, with short bursts. */
        postsPerSecondPerChannel: z.number().positive().max(10_000).default(1),
        postBurst: z.number().int().min(1).max(10_000).default(3),
        /** users.getPresence and dnd.info are Tier 3 (about 50 a minute): answers are cached this long, shared by replicas (s). */
        presenceCacheSeconds: z.number().int().min(1).max(3600).default(60),
        dndCacheSeconds: z.number().int().min(1).max(3600).default(60),
      })
      .strict()
      .default({ postsPerSecondPerChannel: 1, postBurst: 3, presenceCacheSeconds: 60, dndCacheSeconds: 60 }),
    /** On-call schedules by name, used by routes' `schedules`. */
    schedules: z.record(scheduleName, configScheduleSchema).default({}),
    routes: z.array(routeSchema).min(1),
    /** Absent: every action waits for a person (the safe default). */
    policy: policySchema.optional(),
    /** Scheduled batch-review samples per team channel (governance-config.ts). */
    reviews: reviewsSchema.optional(),
    /** The monthly governance report (governance-config.ts). */
    reports: reportsSchema.optional(),
    /** Redaction, anchoring and retention of the audit trail (audit-config.ts). Absent: built-in redaction only. */
    audit: auditConfigSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    cfg.routes.forEach((r, i) => {
      const prev = seen.get(r.name);
      if (prev !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `duplicates routes[${prev}].name` });
      }
      seen.set(r.name, i);
      r.schedules.forEach((name, j) => {
        if (!Object.hasOwn(cfg.schedules, name)) {
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'schedules', j], message: `unknown schedule "${name}"` });
        }
      });
    });
    const defaults = cfg.routes.filter((r) => !r.match);
    if (defaults.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['routes'], message: 'needs one default route (a route without match)' });
    }
    if (defaults.length > 1) {
      const i = cfg.routes.lastIndexOf(defaults[defaults.length - 1]!);
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'match'], message: 'only one route may omit match' });
    }
  });

export type CountersignConfig = z.output<typeof configSchema>;
export type Route = z.output<typeof routeSchema>;
export type Approvers = z.output<typeof approversSchema>;
export type RouteMatch = z.output<typeof matchSchema>;
export type ConfigSchedule = z.output<typeof configScheduleSchema>;
