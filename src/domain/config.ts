import { isIP } from 'node:net';
import { z } from 'zod';
import { slackUserId, urgencySchema } from './escalation.js';
import { policySchema } from './policy/schema.js';
import { reportsSchema, reviewsSchema } from './governance-config.js';
import { auditConfigSchema } from './audit-config.js';
import { chainSchema } from './escalation-chain.js';
import { scheduleSchema } from './schedule/schema.js';
import { hiddenEditableIssues } from './edit.js';
import { DEFAULT_REDACTED_FIELDS } from './redact.js';

/** Slack channel ids: C (public), G (private or legacy group), D (DM). */
const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id like C0123ABCD');
const usergroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id like S0123ABCD');

export const approversSchema = z
  .object({
    users: z.array(slackUserId).default([]).describe('Slack user ids (`U…`/`W…`) who may decide.'),
    usergroup: usergroupId.optional().describe('A Slack user group whose members may decide (memberships cached for 60 s). A route needs `users`, `usergroup` or both.'),
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
    issueTypes: z.array(z.string().min(1)).min(1).optional().describe('Issue types (globs) the route takes.'),
    agents: z.array(z.string().min(1)).min(1).optional().describe('Agent ids (globs).'),
    actionTypes: z.array(z.string().min(1)).min(1).optional().describe('Action types (globs: `payments.*`; `*` stops at a dot, `**` does not).'),
    urgency: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(urgencySchema).min(1)).optional().describe('One urgency or a list.'),
    labels: z.record(z.string().min(1).max(100), z.string().max(200)).optional().describe('Labels that must all be present with these values.'),
  })
  .strict()
  .refine((m) => Object.values(m).some((v) => v !== undefined), {
    message: 'needs at least one of issueTypes, agents, actionTypes, urgency or labels (omit match for the default route)',
  });

export const routeSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lower-case letters, digits, - or _').describe('Unique.'),
    match: matchSchema.optional().describe('What this route takes; every criterion given must hold. Exactly one route omits it: the default.'),
    channel: channelId.describe('Slack channel id (`C…`, `G…` or `D…`) where the cards go.'),
    approvers: approversSchema,
    schedules: z.array(scheduleName).default([]).describe('Names in the top-level `schedules` map, in paging order: the first gives the primary.'),
    chain: chainSchema.optional().describe('Steps that reach further people while nobody decides. See [Escalation chains](routing.md#escalation-chains).'),
  })
  .strict();

/**
 * A schedule in the top-level `schedules` map; its key is its name. `ical`
 * is a file (relative to the config file) whose events become overrides,
 * read when the config loads.
 */
export const configScheduleSchema = scheduleSchema
  .omit({ name: true })
  .extend({
    ical: z
      .string()
      .min(1)
      .optional()
      .describe('An iCal file beside the config file: events from a day back to 180 days ahead that name a Slack user id become overrides.'),
  })
  .strict();

/** A host name (globs: `*` stops at a dot, `**` does not), an IP address or a CIDR range. */
const allowedHost = z
  .string()
  .trim()
  .min(1)
  .max(253)
  .refine(
    (h) => {
      const [net, prefix, ...rest] = h.replace(/^\[(.*)\]$/, '$1').split('/');
      const version = isIP(net!);
      if (prefix !== undefined) return version !== 0 && rest.length === 0 && /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
      return version !== 0 || /^[a-zA-Z0-9*?_-]+(\.[a-zA-Z0-9*?_-]+)*\.?$/.test(h);
    },
    { message: 'must be a host name (globs allowed: *.example.com), an IP address or a CIDR range like 10.0.0.0/8; no scheme or port' },
  );

export const callbacksSchema = z
  .object({
    allowedHosts: z
      .array(allowedHost)
      .max(500)
      .default([])
      .describe(
        'Hosts that agent callbacks (`callback.url`) may go to, on any port: host names (globs: `*.agents.example.com`; `*` stops at a dot, `**` does not), IP addresses and CIDR ranges. Empty: no callbacks at all; an escalation naming another host is rejected. Loopback, private, link-local, unspecified and cloud metadata addresses are refused unless the address or its range is listed here itself: a host name never lets them in, whatever it resolves to, and the address is checked again on connecting. Redirects are never followed.',
      ),
  })
  .strict();

/** Hand-offs (src/flow/handoff.ts, src/flow/delegation.ts). */
export const handoffsSchema = z
  .object({
    snoozeMinutes: z.number().int().min(1).max(24 * 60).default(30).describe("Minutes after *Snooze* that the snoozer is pinged again. The deadline stays where it was."),
    delegationMaxDays: z.number().int().min(1).max(366).default(90).describe('The furthest end date `/countersign delegate @x until …` accepts, in days from now.'),
  })
  .strict();

const DIGEST_DEFAULTS = { backlog: 20, updateSeconds: 10 };

/** A burst into one channel (src/flow/channel-digest.ts). */
export const digestSchema = z
  .object({
    backlog: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(DIGEST_DEFAULTS.backlog)
      .describe(
        "Cards waiting for one channel's posting pace before that channel switches to a digest: one message (\"14 approvals waiting: oldest 3 min\") instead of a card each, decided from App Home. 0: never; every card waits its turn.",
      ),
    updateSeconds: z
      .number()
      .int()
      .min(1)
      .max(300)
      .default(DIGEST_DEFAULTS.updateSeconds)
      .describe('How often an open digest is brought up to date (s), when its text would change. chat.update is Tier 3, about 50 a minute per workspace.'),
    appHomeUrl: z
      .string()
      .regex(/^(slack:\/\/app\?|https:\/\/)[^\s<>|]+$/, 'must be a slack://app?team=T…&id=A…&tab=home deep link or an https URL')
      .optional()
      .describe("The digest's *Open App Home* button opens this (`slack://app?team=T…&id=A…&tab=home`). Without it, the digest says where App Home is."),
  })
  .strict();

export const configSchema = z
  .object({
    version: z.literal(1).default(1).describe('Format version; only `1` exists.'),
    defaults: z
      .object({
        deadlineMinutes: z
          .number()
          .int()
          .min(1)
          .max(60 * 24 * 30)
          .default(60)
          .describe('Minutes an escalation that carries no deadline waits before it expires with the fail-safe outcome (deny).'),
      })
      .strict()
      .default({ deadlineMinutes: 60 }),
    slack: z
      .object({
        postsPerSecondPerChannel: z
          .number()
          .positive()
          .max(10_000)
          .default(1)
          .describe('Pace of card posts and updates per channel, shared by all replicas through Redis. Slack allows about one chat.postMessage a second per channel.'),
        postBurst: z.number().int().min(1).max(10_000).default(3).describe('Short burst allowed above that pace.'),
        presenceCacheSeconds: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(60)
          .describe('users.getPresence answers are cached this long (s), shared by replicas: it is Tier 3, about 50 calls a minute.'),
        dndCacheSeconds: z.number().int().min(1).max(3600).default(60).describe('dnd.info answers are cached this long (s), shared by replicas (Tier 3).'),
        decisionAckMs: z
          .number()
          .int()
          .min(100)
          .max(2500)
          .default(2000)
          .describe(
            "How long an Approve or Deny click's answer to Slack waits for its decision to commit (ms). Slack needs the answer within 3 s. A click not committed by half this time is also queued (Redis), and past this time it is answered once queued: the queued job records it if the commit fails or the process dies.",
          ),
        digest: digestSchema.default(DIGEST_DEFAULTS).describe('A burst into one channel becomes one digest message. See [Operations](operations.md#a-burst-into-one-channel).'),
      })
      .strict()
      .default({ postsPerSecondPerChannel: 1, postBurst: 3, presenceCacheSeconds: 60, dndCacheSeconds: 60, decisionAckMs: 2000, digest: DIGEST_DEFAULTS }),
    callbacks: callbacksSchema.default({ allowedHosts: [] }).describe('Where agent callbacks may go. See [the agent contract](agent-contract.md).'),
    schedules: z.record(scheduleName, configScheduleSchema).default({}).describe("On-call schedules by name, used by routes' `schedules`. See [Routing and on-call](routing.md)."),
    routes: z.array(routeSchema).min(1).describe('Tried in order: the first whose `match` holds takes the escalation; otherwise the default route (the one without `match`).'),
    /** Absent: every action waits for a person (the safe default). */
    policy: policySchema.optional(),
    /** Scheduled batch-review samples per team channel (governance-config.ts). */
    reviews: reviewsSchema.optional(),
    /** The monthly governance report (governance-config.ts). */
    reports: reportsSchema.optional(),
    /** Redaction, anchoring and retention of the audit trail (audit-config.ts). Absent: built-in redaction only. */
    audit: auditConfigSchema.optional(),
    handoffs: handoffsSchema.default({ snoozeMinutes: 30, delegationMaxDays: 90 }).describe('Snooze, reassign and out-of-office delegation. See [Hand-offs](routing.md#hand-offs).'),
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
    for (const issue of hiddenEditableIssues(cfg.policy, [...DEFAULT_REDACTED_FIELDS, ...(cfg.audit?.redact.fields ?? [])])) ctx.addIssue({ code: 'custom', ...issue });
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
