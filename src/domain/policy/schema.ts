import { z } from 'zod';
import { slackUserId } from '../escalation.js';
import { conditionSchema } from './conditions.js';
import { MODES } from '../modes.js';
import { DEFAULT_THRESHOLDS } from '../promotion.js';

export const TIERS = ['autonomous', 'supervised', 'restricted'] as const;
export type Tier = (typeof TIERS)[number];
export const tierRank = (t: Tier) => TIERS.indexOf(t);
export const stricter = (a: Tier, b: Tier): Tier => (tierRank(a) >= tierRank(b) ? a : b);

const channelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id like C0123ABCD');
/** Exact action type, or a glob: `crm.*`, `payments.**`. */
const actionPattern = z.string().regex(/^[a-z0-9_*?-]+(\.[a-z0-9_*?-]+)*$/, 'must be an action type or glob like crm.*');
const usd = z.number().min(0).max(1e9);

export const peopleSchema = z
  .object({ users: z.array(slackUserId).default([]).describe('Slack user ids.'), usergroup: z.string().regex(/^S[A-Z0-9]{2,}$/).optional().describe('A Slack user group id.') })
  .strict();

const usergroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id like S0123ABCD');

/** Quorum (src/domain/quorum.ts): how many approvers, and optionally from which distinct user groups. */
const quorumFields = {
  approvals: z
    .number()
    .int()
    .min(1)
    .max(10)
    .optional()
    .describe("Approvals needed from different approvers of the route before it is approved (default 1). The agent's owner never counts; one deny ends it."),
  distinctGroups: z
    .array(usergroupId)
    .min(1)
    .max(10)
    .optional()
    .describe('User group ids: each counted approval must come from a member of a different one of these groups (e.g. one from finance, one from risk).'),
};
type QuorumFields = { approvals?: number; distinctGroups?: string[] };
const quorumFits = (q: QuorumFields) => !q.distinctGroups || q.distinctGroups.length >= (q.approvals ?? 1);
const quorumFitsMessage = { message: '`distinctGroups` must list at least as many groups as `approvals`', path: ['distinctGroups'] };

/**
 * A top-level param name, as agents write them: letters, digits, `_` and `-`,
 * starting with a letter or `_` (no dots: nested params are not editable).
 */
const editableParam = z
  .string()
  .max(100)
  .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'must be a top-level param name like amountUsd (letters, digits, _ and -)')
  .refine((n) => n !== '__proto__', { message: 'must not be __proto__' });

export const paramRuleSchema = z
  .object({
    when: conditionSchema.describe('When the rule applies.'),
    tier: z.enum(TIERS).optional().describe('Raise the tier to this (never lowers it). Exactly one of `tier` and `deny`, or `approvals` alone (which implies `restricted`).'),
    deny: z.literal(true).optional().describe('Deny outright.'),
    reason: z.string().min(1).max(300).describe('Shown on the card and in the answer.'),
    ...quorumFields,
  })
  .strict()
  .refine((r) => (r.deny ? r.tier === undefined && r.approvals === undefined && r.distinctGroups === undefined : r.tier !== undefined || r.approvals !== undefined), {
    message: 'needs exactly one of tier or deny: true (or approvals), and deny takes no tier or approvals',
  })
  .refine(quorumFits, quorumFitsMessage);

export const actionPolicySchema = z
  .object({
    action: actionPattern.describe('Action type, or a glob (`crm.*`, `payments.**`).'),
    tier: z.enum(TIERS).describe('`autonomous` runs; `supervised` runs and is reviewed afterwards; `restricted` waits for approval.'),
    rules: z.array(paramRuleSchema).default([]).describe('Parameter rules: raise the tier, or deny, when a condition holds.'),
    highStakes: conditionSchema.optional().describe('When it holds, the action always waits for a person (`high_stakes` trigger).'),
    confidenceThreshold: z.number().min(0).max(1).optional().describe("This action's threshold for `low_confidence`, over the agent's and the policy's."),
    spendParam: z.string().min(1).max(200).optional().describe("Param holding the action's own spend in USD (a purchase, a refund), counted against the budgets."),
    editable: z
      .array(editableParam)
      .max(20)
      .refine((names) => new Set(names).size === names.length, { message: 'names a param twice' })
      .optional()
      .describe('Params an approver may change before approving (*Edit and approve…*): top-level names like `amountUsd`, holding a number or a string. The edited request must pass this same policy, needing nothing the original did not.'),
    standing: z
      .boolean()
      .optional()
      .describe('`false`: no standing approvals for this action. `true`: allowed even when the request says it is irreversible (by default those are refused).'),
    ...quorumFields,
  })
  .strict()
  .refine(quorumFits, quorumFitsMessage);

export const denyRuleSchema = z
  .object({
    action: actionPattern.describe('Action type or glob to refuse.'),
    when: conditionSchema.optional().describe('Only when this holds; absent: always.'),
    reason: z.string().min(1).max(300),
  })
  .strict();

export const budgetsSchema = z
  .object({
    perTaskUsd: usd.optional().describe("Per execution id: past it, that task's further actions are escalated (`task_budget`)."),
    dailyUsd: usd.optional().describe('Per agent per calendar day (in `policy.timezone`): an action that would pass it is refused and the agent is paused.'),
    weeklyUsd: usd.optional().describe('Per agent per ISO week, as `dailyUsd`.'),
  })
  .strict()
  .default({});

const rate = z.number().min(0).max(1);
const modeBarSchema = (d: { minSuccesses: number; maxErrorRate: number; demoteAtErrorRate: number }) =>
  z
    .object({
      minSuccesses: z.number().int().min(1).default(d.minSuccesses).describe('Successful actions (actions − errors) needed for the promotion.'),
      maxErrorRate: rate.default(d.maxErrorRate).describe('The error rate must be strictly under this: exactly this rate does not qualify.'),
      demoteAtErrorRate: rate.default(d.demoteAtErrorRate).describe('In this mode, an error rate reaching this demotes the agent one step.'),
    })
    .strict()
    .default(d);

/** Promotion bars (the seed's transition plan), demotion, and the post-action audit sample. */
export const promotionSchema = z
  .object({
    post_action: modeBarSchema(DEFAULT_THRESHOLDS.post_action),
    exception_only: modeBarSchema(DEFAULT_THRESHOLDS.exception_only),
    demoteMinActions: z.number().int().min(1).default(DEFAULT_THRESHOLDS.demoteMinActions).describe('Actions in a mode before its error rate can demote the agent.'),
    auditSampleRate: rate.default(0.1).describe('Share of autonomous actions under post-action audit that get a review card.'),
    approvers: peopleSchema.optional().describe("Who may accept a promotion; default: `policy.admins` and the agent's `admins`. Never the agent's owner."),
  })
  .strict()
  .default({ ...DEFAULT_THRESHOLDS, auditSampleRate: 0.1 });

export const agentPolicySchema = z
  .object({
    id: z.string().min(1).max(200).describe("The agent's id, as its escalations send it."),
    domain: z
      .object({
        issueTypes: z.array(z.string().min(1)).default([]).describe("Issue types inside the agent's domain."),
        actionTypes: z.array(actionPattern).default([]).describe("Action types (or globs) inside the agent's domain."),
      })
      .strict()
      .optional()
      .describe('Outside it, the `out_of_domain` trigger sends the action to a person.'),
    confidenceThreshold: z.number().min(0).max(1).optional().describe("The agent's threshold for `low_confidence`, over the policy's."),
    actions: z.array(actionPolicySchema).default([]).describe('Anything not listed is denied.'),
    deny: z.array(denyRuleSchema).default([]).describe('Deny rules: refuse an action type or glob, optionally only `when` a condition holds.'),
    budgets: budgetsSchema,
    alertChannel: channelId.optional().describe("Budget alerts, the Resume button and promotion proposals for this agent go here; else `policy.alertChannel`."),
    admins: peopleSchema.optional().describe('Who may resume the agent after a budget pause (with `policy.admins`).'),
    mode: z
      .enum(MODES)
      .optional()
      .describe('Review mode when none is stored (a promotion or demotion stores one, and it wins). Absent: `pre_action`, as for every new agent.'),
    modes: z.record(actionPattern, z.enum(MODES)).optional().describe("Per action type (exact or glob): these only tighten the agent's mode, never loosen it."),
    standing: z.literal(false).optional().describe("`false`: no standing approvals for any of this agent's actions."),
  })
  .strict();

/** Standing approvals ("approve similar for 24 h"): the limits a grantor works within. */
export const standingSchema = z
  .object({
    enabled: z.boolean().default(true).describe('`false`: nobody may grant a standing approval; existing ones stop applying.'),
    maxHours: z
      .number()
      .positive()
      .max(24 * 30)
      .default(24)
      .describe('The longest a standing approval may last, in hours.'),
    maxCount: z.number().int().min(1).max(100_000).default(100).describe('The largest count limit a grantor may set.'),
  })
  .strict()
  .default({ enabled: true, maxHours: 24, maxCount: 100 });

export const policySchema = z
  .object({
    confidenceThreshold: z.number().min(0).max(1).default(0.7).describe('Below this confidence an action waits for a person (`low_confidence`).'),
    supervisedReviewMinutes: z
      .number()
      .positive()
      .max(60 * 24 * 7)
      .default(60)
      .describe('Supervised actions are reviewed within this many minutes; then a reminder, and at twice this an escalation to `alertChannel`.'),
    repeatedFailureThreshold: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe('The same step failing this many times in a row (from outcome reports) sends the next attempt to a person (`repeated_failure`).'),
    timezone: z.string().default('UTC').describe('IANA zone in which budget days and weeks, and the weekly batch review, are counted.'),
    alertThresholds: z.array(z.number().positive().max(10)).default([0.8, 1]).describe('Alert when spend crosses these fractions of a cap, once per window.'),
    alertChannel: channelId.optional().describe("Budget alerts, review escalations, config reload failures and promotion proposals, unless an agent's own `alertChannel` is set."),
    admins: peopleSchema.default({ users: [] }).describe('Who may resume a paused agent and accept promotions (with each agent\'s `admins`), and search the audit trail.'),
    organization: z
      .object({
        monthlyUsd: usd.optional().describe('Organisation spend cap per month.'),
        projectedMonthlyUsd: usd.optional().describe('The organisation alert fires at 120% of this projection.'),
      })
      .strict()
      .default({}),
    agents: z.array(agentPolicySchema).default([]),
    promotion: promotionSchema,
    standing: standingSchema.describe(
      "Standing approvals: an approver approves a restricted request and allows similar ones (same agent, action and route, params within bounds) for a while. Never for a request a trigger sent to a person, nor (unless the action says `standing: true`) an irreversible one.",
    ),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.agents.forEach((a, i) => {
      if (seen.has(a.id)) ctx.addIssue({ code: 'custom', path: ['agents', i, 'id'], message: `duplicate agent id ${a.id}` });
      seen.add(a.id);
    });
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: p.timezone });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['timezone'], message: 'must be an IANA time zone like Europe/Berlin' });
    }
  });

export type Policy = z.output<typeof policySchema>;
export type AgentPolicy = z.output<typeof agentPolicySchema>;
export type ActionPolicy = z.output<typeof actionPolicySchema>;
export type People = z.output<typeof peopleSchema>;
export type PromotionConfig = z.output<typeof promotionSchema>;
export type StandingConfig = z.output<typeof standingSchema>;
