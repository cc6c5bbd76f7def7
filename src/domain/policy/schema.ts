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
  .object({ users: z.array(slackUserId).default([]), usergroup: z.string().regex(/^S[A-Z0-9]{2,}$/).optional() })
  .strict();

export const paramRuleSchema = z
  .object({
    when: conditionSchema,
    /** Raise the tier to this (never lowers it), or deny outright. */
    tier: z.enum(TIERS).optional(),
    deny: z.literal(true).optional(),
    reason: z.string().min(1).max(300),
  })
  .strict()
  .refine((r) => (r.tier === undefined) !== (r.deny === undefined), { message: 'needs exactly one of tier or deny: true' });

export const actionPolicySchema = z
  .object({
    action: actionPattern,
    tier: z.enum(TIERS),
    rules: z.array(paramRuleSchema).default([]),
    /** Above this the action always waits for a human ("high-stakes"). */
    highStakes: conditionSchema.optional(),
    confidenceThreshold: z.number().min(0).max(1).optional(),
    /** Param holding the action's own spend in USD (a purchase, a refund), counted against budgets. */
    spendParam: z.string().min(1).max(200).optional(),
  })
  .strict();

export const denyRuleSchema = z
  .object({ action: actionPattern, when: conditionSchema.optional(), reason: z.string().min(1).max(300) })
  .strict();

export const budgetsSchema = z
  .object({
    /** Per execution id: past it, that task's further actions are escalated. */
    perTaskUsd: usd.optional(),
    /** Per agent per calendar day / ISO week (policy time zone): past it, the agent is paused. */
    dailyUsd: usd.optional(),
    weeklyUsd: usd.optional(),
  })
  .strict()
  .default({});

const rate = z.number().min(0).max(1);
const modeBarSchema = (d: { minSuccesses: number; maxErrorRate: number; demoteAtErrorRate: number }) =>
  z
    .object({
      minSuccesses: z.number().int().min(1).default(d.minSuccesses),
      /** Strictly under: exactly this rate does not qualify. */
      maxErrorRate: rate.default(d.maxErrorRate),
      demoteAtErrorRate: rate.default(d.demoteAtErrorRate),
    })
    .strict()
    .default(d);

/** Promotion bars (the seed's transition plan), demotion, and the post-action audit sample. */
export const promotionSchema = z
  .object({
    post_action: modeBarSchema(DEFAULT_THRESHOLDS.post_action),
    exception_only: modeBarSchema(DEFAULT_THRESHOLDS.exception_only),
    demoteMinActions: z.number().int().min(1).default(DEFAULT_THRESHOLDS.demoteMinActions),
    /** Share of autonomous actions under post-action audit that get a review card (0–1). Default 10%. */
    auditSampleRate: rate.default(0.1),
    /** Who may accept a promotion; default: policy.admins and the agent's admins. Never the agent's owner. */
    approvers: peopleSchema.optional(),
  })
  .strict()
  .default({ ...DEFAULT_THRESHOLDS, auditSampleRate: 0.1 });

export const agentPolicySchema = z
  .object({
    id: z.string().min(1).max(200),
    domain: z
      .object({ issueTypes: z.array(z.string().min(1)).default([]), actionTypes: z.array(actionPattern).default([]) })
      .strict()
      .optional(),
    confidenceThreshold: z.number().min(0).max(1).optional(),
    actions: z.array(actionPolicySchema).default([]),
    deny: z.array(denyRuleSchema).default([]),
    budgets: budgetsSchema,
    /** Budget alerts and the Resume button for this agent go here. */
    alertChannel: channelId.optional(),
    /** Who may resume the agent after a budget pause (with policy.admins). */
    admins: peopleSchema.optional(),
    /**
     * Human-in-the-loop mode when none is stored (a promotion or demotion
     * stores one, and it wins). Absent: pre_action, as for every new agent.
     */
    mode: z.enum(MODES).optional(),
    /** Per action type (exact or glob): these only tighten the agent's mode, never loosen it. */
    modes: z.record(actionPattern, z.enum(MODES)).optional(),
  })
  .strict();

export const policySchema = z
  .object({
    /** Below this confidence an action waits for a human. The seed's 0.7 by default. */
    confidenceThreshold: z.number().min(0).max(1).default(0.7),
    /** Supervised actions are reviewed within this many minutes, then reminded, then escalated. */
    supervisedReviewMinutes: z.number().positive().max(60 * 24 * 7).default(60),
    /** Same step failing this many times without a success sends the next attempt to a human. */
    repeatedFailureThreshold: z.number().int().min(1).max(100).default(3),
    /** Calendar days and weeks for budgets are counted in this IANA zone. */
    timezone: z.string().default('UTC'),
    /** Alert when spend crosses these fractions of a cap. */
    alertThresholds: z.array(z.number().positive().max(10)).default([0.8, 1]),
    alertChannel: channelId.optional(),
    admins: peopleSchema.default({ users: [] }),
    organization: z
      .object({
        monthlyUsd: usd.optional(),
        /** The org alert fires at 120% of this projection (the seed's safety net). */
        projectedMonthlyUsd: usd.optional(),
      })
      .strict()
      .default({}),
    agents: z.array(agentPolicySchema).default([]),
    promotion: promotionSchema,
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
