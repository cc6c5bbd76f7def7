/**
 * Standing approvals ("approve similar for 24 h"): an approver approves one
 * restricted request and, with it, later requests of the same agent, action
 * and route whose params stay within bounds, for a while, up to a count and
 * a spend. Pure: the table, the claim and the flow live in src/db and src/flow.
 */
import { canonicalJson } from './digest.js';
import { matches } from './policy/evaluate.js';
import type { Policy } from './policy/schema.js';

/** Params a later request must stay within. A param named in neither map is free. */
export interface StandingBounds {
  /** Numeric params with an upper bound: the request's value must be a finite number ≤ this. */
  max: Record<string, number>;
  /** Params that must equal this exactly (any JSON value, compared as canonical JSON). */
  equal: Record<string, unknown>;
}

const own = (o: Record<string, unknown>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** Does a request's params fall within every bound? */
export function withinBounds(bounds: StandingBounds, params: Record<string, unknown>): boolean {
  for (const [k, limit] of Object.entries(bounds.max)) {
    const v = own(params, k) ? params[k] : undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v > limit) return false;
  }
  for (const [k, want] of Object.entries(bounds.equal)) {
    if (!own(params, k) || canonicalJson(params[k]) !== canonicalJson(want)) return false;
  }
  return true;
}

/** The bounds a grant modal starts from: every number capped at its value, everything else the same as now. */
export function proposeBounds(params: Record<string, unknown>): StandingBounds {
  const bounds: StandingBounds = { max: {}, equal: {} };
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'number' && Number.isFinite(v)) bounds.max[k] = v;
    else bounds.equal[k] = v;
  }
  return bounds;
}

/** "amountUsd ≤ 400, currency = "USD"", or "any params". Plain text: agent keys and values, escape before Slack. */
export function describeBounds(b: StandingBounds, maxLen = 300): string {
  const parts = [
    ...Object.entries(b.max).map(([k, v]) => `${k} ≤ ${v}`),
    ...Object.entries(b.equal).map(([k, v]) => `${k} = ${canonicalJson(v)}`),
  ];
  const s = parts.length > 0 ? parts.join(', ') : 'any params';
  return s.length > maxLen ? `${s.slice(0, maxLen - 1)}…` : s;
}

export type StandingPermission =
  | { allowed: true; maxHours: number; maxCount: number }
  | { allowed: false; reason: string };

/**
 * May a standing approval cover this agent's action? The policy's `standing`
 * limits, then `standing: false` on the agent or the action; an irreversible
 * action only when its policy entry says `standing: true`.
 */
export function standingPermission(policy: Policy | undefined, agentId: string, actionType: string, reversible: boolean): StandingPermission {
  if (!policy) return { allowed: false, reason: 'no policy is configured' };
  if (!policy.standing.enabled) return { allowed: false, reason: 'standing approvals are turned off (policy.standing.enabled)' };
  const agent = policy.agents.find((a) => a.id === agentId);
  if (!agent) return { allowed: false, reason: `agent ${agentId} has no policy` };
  if (agent.standing === false) return { allowed: false, reason: `the policy forbids standing approvals for ${agentId}` };
  const action = agent.actions.find((a) => a.action === actionType) ?? agent.actions.find((a) => matches(a.action, actionType));
  if (action?.standing === false) return { allowed: false, reason: `the policy forbids standing approvals for ${actionType}` };
  if (!reversible && action?.standing !== true) {
    return { allowed: false, reason: `${actionType} is irreversible: standing approvals need \`standing: true\` on the action` };
  }
  return { allowed: true, maxHours: policy.standing.maxHours, maxCount: policy.standing.maxCount };
}

/**
 * Only a request that waits for nothing but its restricted tier may be covered:
 * any trigger (low confidence, conflicting information, repeated failure, high
 * stakes, out of domain, task budget) still reaches a person, and so does a
 * wait that a review mode imposed on a looser tier.
 */
export function standingEligible(d: { outcome?: string; status?: string; tier: string | null; triggers: ReadonlyArray<unknown> | null }): boolean {
  const pending = d.outcome === 'pending' || d.status === 'pending';
  return pending && d.tier === 'restricted' && (d.triggers ?? []).length === 0;
}

/** A standing approval as the use path needs it (structurally a `standing_approvals` row). */
export interface StandingScope {
  id: string;
  agentId: string;
  actionType: string;
  route: string;
  grantedBy: string;
  /** How the grantor was an approver of the route: `user`, or `usergroup:<id>`. */
  grantedVia: string;
  bounds: StandingBounds;
  expiresAt: Date;
  maxCount: number;
  usedCount: number;
  maxSpendMicros: number | null;
  spentMicros: number;
  revokedAt: Date | null;
}

/** What a later request brings to the match. */
export interface StandingRequest {
  agentId: string;
  actionType: string;
  /** The route this request takes, and that route's approvers now. */
  route: string;
  routeApprovers: { users: readonly string[]; usergroup?: string };
  owner: string;
  params: Record<string, unknown>;
  spendMicros: number;
  now: Date;
}

/**
 * Does this standing approval cover the request? The same agent, action and
 * route; active (not revoked, not expired, uses and spend left); params within
 * bounds; and its grantor could still approve the request: not the agent's
 * owner, still among the route's approvers (named, or through the same user
 * group; the group's members are not looked up on this path).
 */
export function standingCovers(s: StandingScope, r: StandingRequest): boolean {
  if (s.agentId !== r.agentId || s.actionType !== r.actionType || s.route !== r.route) return false;
  if (s.revokedAt !== null || r.now.getTime() >= s.expiresAt.getTime()) return false;
  if (s.usedCount >= s.maxCount) return false;
  if (s.maxSpendMicros !== null && s.spentMicros + r.spendMicros > s.maxSpendMicros) return false;
  if (s.grantedBy === r.owner) return false;
  const stillApprover =
    s.grantedVia === 'user' ? r.routeApprovers.users.includes(s.grantedBy) : r.routeApprovers.usergroup !== undefined && s.grantedVia === `usergroup:${r.routeApprovers.usergroup}`;
  if (!stillApprover) return false;
  return withinBounds(s.bounds, r.params);
}

/** Raw modal fields, as typed. */
export interface GrantForm {
  hours: string;
  count: string;
  /** Empty: no spend limit. */
  spendUsd: string;
  /** Per numeric param: its upper bound as typed; empty removes the bound. */
  max: Record<string, string>;
  /** Params still required to equal the request's value (the checked boxes). */
  keep: readonly string[];
}

export interface Grant {
  hours: number;
  maxCount: number;
  maxSpendMicros: number | null;
  bounds: StandingBounds;
}

/** Block ids of the grant modal, so that an error names its field. */
export const GRANT_FIELDS = { hours: 'standing_hours', count: 'standing_count', spend: 'standing_spend', keep: 'standing_keep', max: (k: string) => `standing_max:${k}` } as const;

const NUMBER = /^\s*\d+(\.\d+)?\s*$/;

/**
 * Validates a grant against the policy's limits and the request. Bounds start
 * from the request (`proposeBounds`): a number's bound may be changed or
 * removed, an equal param may be freed; nothing may be added that the request
 * did not have. Errors are keyed by block id.
 */
export function parseGrant(
  form: GrantForm,
  ctx: { params: Record<string, unknown>; maxHours: number; maxCount: number },
): { ok: true; grant: Grant } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const hours = NUMBER.test(form.hours) ? Number(form.hours) : Number.NaN;
  if (!(hours > 0 && hours <= ctx.maxHours)) errors[GRANT_FIELDS.hours] = `Enter a number of hours above 0 and at most ${ctx.maxHours} (policy.standing.maxHours).`;
  const count = /^\s*\d+\s*$/.test(form.count) ? Number(form.count) : Number.NaN;
  if (!(Number.isInteger(count) && count >= 1 && count <= ctx.maxCount)) errors[GRANT_FIELDS.count] = `Enter a whole number of requests from 1 to ${ctx.maxCount}.`;
  let maxSpendMicros: number | null = null;
  if (form.spendUsd.trim() !== '') {
    const usd = NUMBER.test(form.spendUsd) ? Number(form.spendUsd) : Number.NaN;
    if (!(usd >= 0 && usd <= 1e9)) errors[GRANT_FIELDS.spend] = 'Enter an amount in USD (like 1000), or leave it empty for no spend limit.';
    else maxSpendMicros = Math.round(usd * 1e6);
  }
  const proposed = proposeBounds(ctx.params);
  const bounds: StandingBounds = { max: {}, equal: {} };
  for (const [k, v] of Object.entries(proposed.max)) {
    const typed = own(form.max, k) ? form.max[k]!.trim() : String(v);
    if (typed === '') continue;
    const n = /^-?\d+(\.\d+)?$/.test(typed) ? Number(typed) : Number.NaN;
    if (!Number.isFinite(n)) errors[GRANT_FIELDS.max(k)] = `Enter a number, or leave it empty to allow any ${k}.`;
    else bounds.max[k] = n;
  }
  for (const k of form.keep) {
    if (!own(proposed.equal, k)) errors[GRANT_FIELDS.keep] = `${k} is not a param of this request.`;
    else bounds.equal[k] = proposed.equal[k];
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, grant: { hours, maxCount: count, maxSpendMicros, bounds } };
}
