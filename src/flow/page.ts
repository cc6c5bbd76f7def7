import type { Route } from '../domain/config.js';
import type { Urgency } from '../domain/escalation.js';
import { choosePagee, isAvailable, type Availability } from '../domain/paging.js';
import { recordEvent, type EventInput } from '../db/queries/events.js';
import { delegationsFromShared } from '../db/queries/delegations.js';
import { pageeFor } from '../domain/delegation.js';
import { onCallFor, type RouteOnCall } from './oncall.js';
import type { FlowPorts } from './ports.js';

/** Why a person on call was passed over for their delegate (the card shows it after their mention). */
export const OUT_OF_OFFICE = 'out of office: their delegate is paged';

/** At most this many people are asked about before falling back: each miss costs two Tier 3 calls. */
const MAX_CANDIDATES = 5;

export type PageTarget = 'primary' | 'secondary';

export interface PageRequest {
  escalationId: string;
  executionId?: string | null;
  route: Route;
  /** `primary`: the on-call person, else the next available one. `secondary`: skip the primary. */
  target: PageTarget;
  /** `critical` pages the first candidate even when nobody is available. */
  urgency: Urgency;
  now?: Date;
  /**
   * Default true. False: the caller records `event` itself, in the statement
   * that delivers the page (the card's post records it with `card_posted`).
   */
  record?: boolean;
}

export interface Considered {
  user: string;
  presence: Availability['presence'];
  dnd: boolean;
  available: boolean;
  paged: boolean;
  /** 'available', 'away', 'in Do Not Disturb', 'presence unknown: paged', …. */
  why: string;
  /** From the cache, not a Slack call. */
  cached: boolean;
  /** The Slack lookup failed (treated as available). */
  error?: string;
}

export interface PageResult {
  /** Whom to reach; undefined means fall back to the route's channel and user group. */
  userId?: string;
  /** `userId` is paged as the out-of-office delegate of this on-call person. */
  onBehalfOf?: string;
  fallback: boolean;
  considered: Considered[];
  /** One sentence for the card and the audit record. */
  reason: string;
  route: string;
  channel: string;
  /** The route's user group: who the fallback asks. */
  usergroup?: string;
  /** Who is on call, as computed (before availability). */
  oncall: RouteOnCall;
  /** The `paged` event; undefined for a route without schedules (nobody to page). */
  event?: EventInput;
}

/**
 * Picks whom to page for an escalation and records it; the caller delivers
 * (a mention on the card, a DM, a thread message). Candidates come from the
 * route's schedules and overrides (`onCallFor`), in paging order; each is
 * checked for Slack presence and Do Not Disturb (cached) until one is
 * available, so an away or DND primary hands over to the next layer or the
 * secondary. Nobody scheduled, or nobody available: `fallback`, and the
 * caller asks the route's channel and user group. Every call on a route
 * with schedules (or overrides) records a `paged` event with each
 * candidate's availability at that moment.
 */
export async function pageOnCall(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'config' | 'log' | 'now'>,
  req: PageRequest,
): Promise<PageResult> {
  const at = req.now ?? ports.now();
  const oncall = await onCallFor(ports, req.route, at);
  const pool = (req.target === 'secondary' ? oncall.candidates.slice(1) : oncall.candidates).slice(0, MAX_CANDIDATES);
  // Out of office: while a delegation is in force, the page goes to the delegate instead (the delegate → whom they stand in for).
  const delegations = pool.length > 0 ? await delegationsFromShared(ports.db, pool.map((c) => c.user), at) : [];
  const standIn = new Map<string, string>();
  const users = pool.map((c) => {
    const to = pageeFor(delegations, c.user, at);
    if (to.onBehalfOf && !standIn.has(to.user)) standIn.set(to.user, to.onBehalfOf);
    return to.user;
  });
  // Asked one at a time, in order: the first available person ends the search, saving Slack calls.
  const seen = new Map<string, Availability & { cached: boolean; error?: string }>();
  for (const user of users) {
    const a = await ports.slack.availability(user);
    if (a.error) ports.log.warn({ user, error: a.error, escalationId: req.escalationId }, 'availability lookup failed: treating the person as available');
    seen.set(user, a);
    if (isAvailable(a)) break;
  }
  const asked = users.filter((u) => seen.has(u));
  const decision = choosePagee(asked, seen, { critical: req.urgency === 'critical' });
  const considered: Considered[] = decision.considered.flatMap((c) => {
    const a = seen.get(c.user)!;
    const delegator = standIn.get(c.user);
    const away: Considered[] = delegator
      ? [{ user: delegator, presence: 'unknown', dnd: false, available: false, paged: false, why: OUT_OF_OFFICE, cached: true }]
      : [];
    return [
      ...away,
      {
        user: c.user,
        presence: a.presence,
        dnd: a.dnd,
        available: isAvailable(a),
        paged: c.paged,
        why: delegator ? `${c.why}; delegate of ${delegator}` : c.why,
        cached: a.cached,
        ...(a.error ? { error: a.error } : {}),
      },
    ];
  });
  const onBehalfOf = decision.user ? standIn.get(decision.user) : undefined;
  const reason = reasonOf(req, oncall, pool.length, decision.user, considered, onBehalfOf);
  const result: PageResult = {
    ...(decision.user ? { userId: decision.user } : {}),
    ...(onBehalfOf ? { onBehalfOf } : {}),
    fallback: decision.user === undefined,
    considered,
    reason,
    route: req.route.name,
    channel: req.route.channel,
    ...(req.route.approvers.usergroup ? { usergroup: req.route.approvers.usergroup } : {}),
    oncall,
  };
  // A route without schedules or overrides pages nobody: nothing to record, and its cards stay as cheap as before.
  if (!oncall.scheduled) return result;
  result.event = {
    escalationId: req.escalationId,
    executionId: req.executionId ?? null,
    type: 'paged',
    actor: 'system',
    data: {
      route: req.route.name,
      target: req.target,
      urgency: req.urgency,
      user: decision.user ?? null,
      ...(onBehalfOf ? { onBehalfOf } : {}),
      fallback: result.fallback,
      reason,
      at: at.toISOString(),
      scheduled: oncall.scheduled,
      oncall: oncall.candidates.map((c) => ({ user: c.user, schedule: c.schedule, source: c.source, until: c.to.toISOString() })),
      considered,
    },
  };
  if (req.record !== false) await recordEvent(ports.db, result.event);
  return result;
}

function reasonOf(req: PageRequest, oncall: RouteOnCall, pooled: number, user: string | undefined, considered: Considered[], onBehalfOf?: string): string {
  const route = req.route.name;
  if (!oncall.scheduled) return `route ${route} has no on-call schedule`;
  // Asked for the secondary while the primary is on call: what is missing is a secondary, not anyone at all.
  if (pooled === 0) return req.target === 'secondary' && oncall.primary ? `no secondary is on call for route ${route} (${oncall.primary.user} is the only one on call)` : `nobody is on call for route ${route}`;
  const skipped = considered.filter((c) => !c.paged).map((c) => `${c.user} ${c.why}`);
  if (!user) return `nobody on call for route ${route} is available (${skipped.join(', ')})`;
  const paged = considered.find((c) => c.paged)!;
  const roleOf = (u: string) => (oncall.primary?.user === u ? 'on-call primary' : oncall.secondary?.user === u ? 'on-call secondary' : 'on call');
  const head = onBehalfOf ? `${user} is the out-of-office delegate of ${onBehalfOf} (${roleOf(onBehalfOf)}) for route ${route}` : `${user} is the ${roleOf(user)} for route ${route}`;
  if (paged.why.includes('paged anyway')) return `${head}: ${paged.why}`;
  return skipped.length > 0 ? `${head}, paged because ${skipped.join(', ')}` : head;
}
