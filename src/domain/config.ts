import { z } from 'zod';
import { slackUserId } from './escalation.js';
import { policySchema } from './policy/schema.js';

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

export const routeSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, - or _'),
    /** Issue types this route takes; a route without `match` is the default. */
    match: z.object({ issueTypes: z.array(z.string().min(1)).min(1) }).strict().optional(),
    channel: channelId,
    approvers: approversSchema,
  })
  .strict();

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
      })
      .strict()
      .default({ postsPerSecondPerChannel: 1, postBurst: 3 }),
    routes: z.array(routeSchema).min(1),
    /** Absent: every action waits for a person (the safe default). */
    policy: policySchema.optional(),
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
