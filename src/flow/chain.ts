import type { Route } from '../domain/config.js';
import { urgencySchema, type Urgency } from '../domain/escalation.js';
import { chainStep, chainTimeline, type Chain, type ChainJob, type Target } from '../domain/escalation-chain.js';
import { routeByName } from '../domain/routing.js';
import { getEscalation } from '../db/queries/escalations.js';
import { recordEvent } from '../db/queries/events.js';
import { handoffRecorded, lastChainStep, type SentPing } from '../db/queries/chain.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { RateLimitedError } from '../errors.js';
import { chainThreadMessage, type ChainNotice, type Mention } from '../slack/cards/chain-message.js';
import { sendOncallDm } from './card-oncall.js';
import { runSnoozeJob } from './handoff.js';
import { resolveLateSends } from './close-loop.js';
import { expire } from './expire.js';
import { postKey } from './post-card.js';
import { onCallFor, type RouteOnCall } from './oncall.js';
import { pageOnCall, type PageResult } from './page.js';
import type { FlowPorts } from './ports.js';

export const CHAIN_EXHAUSTED_REASON = 'Nobody decided through the whole escalation chain: fail-safe deny.';

type ChainPorts = Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'config' | 'scheduler' | 'log' | 'now'>;

/** One message a step sent, for the record. */
export interface Reached {
  /** `card`: the first step's mention of the primary is the card itself (post-card pings the on-call person). */
  via: 'dm' | 'thread' | 'card';
  /** Where it was posted: for a DM, the DM's own id (D…), which chat.update needs. */
  channel: string;
  ts: string;
  users: string[];
  usergroup?: string;
}

export type ChainOutcome =
  | { kind: 'skipped'; why: 'not_pending' | 'no_chain' | 'stale' | 'repeated' }
  | { kind: 'notified'; reached: Reached[] }
  | { kind: 'fail_safe'; expired: boolean }
  /** The channel's posting pace is spent: run this job again in `ms`, nothing sent yet. */
  | { kind: 'wait'; ms: number };

/**
 * Starts the route's escalation chain once the card is in the channel, so
 * step 0 can answer in its thread. Idempotent (the step's job id is fixed);
 * routes without a chain keep the card and the deadline alone.
 */
export async function startChain(ports: Pick<FlowPorts, 'config' | 'scheduler'>, row: Pick<EscalationRow, 'id' | 'status' | 'route'>): Promise<boolean> {
  if (row.status !== 'pending') return false;
  const route = routeByName(ports.config.current().config, row.route ?? '');
  if (!route?.chain) return false;
  await ports.scheduler.scheduleChainStep({ kind: 'step', escalationId: row.id, index: 0 });
  return true;
}

/**
 * A chain job fires. Anything but a pending escalation makes it a silent
 * no-op: a decision removes the waiting jobs, and this check stops one that
 * was already running. The chain is read from the current config.
 */
export async function runChainJob(ports: ChainPorts, job: ChainJob): Promise<ChainOutcome> {
  const row = await getEscalation(ports.db, job.escalationId);
  if (!row || row.status !== 'pending') return { kind: 'skipped', why: 'not_pending' };
  // A snooze's re-ping is a DM: no chain, no channel pace (src/flow/handoff.ts).
  if (job.kind === 'snooze') {
    const snoozed = await runSnoozeJob(ports, row, job);
    return snoozed.kind === 'skipped' ? { kind: 'skipped', why: snoozed.why === 'stale' ? 'stale' : snoozed.why === 'repeated' ? 'repeated' : 'not_pending' } : { kind: 'notified', reached: [{ via: 'dm', channel: snoozed.channel, ts: snoozed.ts, users: [snoozed.user] }] };
  }
  const route = routeByName(ports.config.current().config, row.route ?? '');
  // A shift-end re-ping needs no chain: routes with schedules alone get it too.
  if (!route || (job.kind === 'step' && !route.chain)) return { kind: 'skipped', why: 'no_chain' };
  // A step posts in the card's channel: take its turn in the channel's pace (shared with cards) before anything is sent.
  const posts = job.kind === 'handoff' || chainStep(route.chain!, job.index, urgencyOf(row)).kind === 'notify';
  const key = postKey(row.channel ?? route.channel);
  const wait = posts ? await ports.pacer.reserve(key) : 0;
  if (wait > 0) return { kind: 'wait', ms: wait };
  try {
    return job.kind === 'step' ? await runStep(ports, row, route, route.chain!, job.index) : await runHandoff(ports, row, route, job.at);
  } catch (err) {
    // Slack's Retry-After, honoured by every replica; the retry skips nothing already recorded.
    if (!(err instanceof RateLimitedError)) throw err;
    await ports.pacer.block(key, err.retryAfterMs);
    return { kind: 'wait', ms: err.retryAfterMs };
  }
}

function urgencyOf(row: EscalationRow): Urgency {
  const parsed = urgencySchema.safeParse(row.urgency);
  return parsed.success ? parsed.data : 'normal';
}

async function runStep(ports: ChainPorts, row: EscalationRow, route: Route, chain: Chain, index: number): Promise<ChainOutcome> {
  const urgency = urgencyOf(row);
  const step = chainStep(chain, index, urgency);
  if (step.kind === 'fail_safe') {
    // The same guarded UPDATE as the deadline: the agent hears "deny" exactly once.
    const expired = await expire(ports, row.id, {
      reason: CHAIN_EXHAUSTED_REASON,
      data: { cause: 'chain_exhausted', chain: chain.name, steps: index, rounds: chain.repeat },
    });
    return { kind: 'fail_safe', expired };
  }
  const last = await lastChainStep(ports.db, row.id);
  // A duplicate of a step the chain has moved past (an old job re-added): the chain is elsewhere.
  if (last > index) return { kind: 'skipped', why: 'stale' };
  const now = ports.now();
  const nextAt = new Date(now.getTime() + step.waitMs);
  const perRound = chain.steps.length;
  const failSafeNext = index + 1 >= perRound * chain.repeat;
  let outcome: ChainOutcome = { kind: 'skipped', why: 'repeated' };
  let oncall: RouteOnCall | undefined;
  // Recorded already: this is a retry after a crash, so only what follows is left to do.
  if (last < index) {
    const notice: Omit<ChainNotice, 'mentions'> = {
      ...about(row, route),
      step: { number: (index % perRound) + 1, of: perRound, round: step.round + 1, rounds: chain.repeat },
      next: { at: nextAt, failSafe: failSafeNext },
    };
    // Step 0's mention in the channel is the card, which already names the on-call primary.
    const onCard = index === 0 && step.targets.includes('primary_in_channel');
    const targets = onCard ? step.targets.filter((t) => t !== 'primary_in_channel') : step.targets;
    const done = await reach(ports, row, route, targets, urgency, now, notice);
    if (onCard) done.reached.unshift({ via: 'card', channel: row.channel ?? route.channel, ts: row.cardTs ?? '', users: [] });
    oncall = done.oncall;
    await recordEvent(ports.db, {
      escalationId: row.id,
      executionId: row.executionId,
      type: 'chain_step',
      actor: 'system',
      data: { chain: chain.name, step: index, round: step.round + 1, targets: step.targets, reached: done.reached, paged: done.paged, nextAt: nextAt.toISOString(), failSafeNext },
    });
    await resolveLateSends(ports, row.id, sentPings(done.reached));
    outcome = { kind: 'notified', reached: done.reached };
  }
  await ports.scheduler.scheduleChainStep({ kind: 'step', escalationId: row.id, index: index + 1 }, nextAt);
  if (index === 0) {
    const end = chainTimeline(chain, now, urgency).at(-1)!.at;
    await planHandoff(ports, row, route, now, end, oncall);
  }
  await cancelIfDecided(ports, row.id);
  return outcome;
}

/** The card's facts a chain message repeats (agent text is made safe by the builder). */
function about(row: EscalationRow, route: Route): Omit<ChainNotice, 'mentions'> {
  return { actionType: row.actionType ?? '', agentId: row.agentId ?? '', route: route.name, channel: row.channel ?? route.channel, urgency: row.urgency ?? 'normal' };
}

async function stillPending(ports: Pick<FlowPorts, 'db'>, id: string): Promise<boolean> {
  return (await getEscalation(ports.db, id))?.status === 'pending';
}

/**
 * Delivers one step: pages the on-call primary and/or secondary (availability
 * checked, `paged` recorded), DMs the primary, and mentions everyone the step
 * names in one message in the card's thread. Nobody on call: the route's user
 * group (else its approvers) is asked instead, and the message says so.
 */
async function reach(
  ports: ChainPorts,
  row: EscalationRow,
  route: Route,
  targets: readonly Target[],
  urgency: Urgency,
  now: Date,
  notice: Omit<ChainNotice, 'mentions'>,
): Promise<{ reached: Reached[]; paged: Array<{ target: string; user: string | null; fallback: boolean }>; oncall?: RouteOnCall }> {
  const page = (target: 'primary' | 'secondary') =>
    pageOnCall(ports, { escalationId: row.id, executionId: row.executionId, route, target, urgency, now });
  const wantsPrimary = targets.includes('primary_in_channel') || targets.includes('dm_primary');
  const primary: PageResult | undefined = wantsPrimary ? await page('primary') : undefined;
  const secondary: PageResult | undefined = targets.includes('secondary') ? await page('secondary') : undefined;

  const mentions: Mention[] = [];
  const fallbacks: string[] = [];
  if (primary?.userId && targets.includes('primary_in_channel')) mentions.push({ kind: 'user', id: primary.userId, role: 'primary' });
  if (primary && !primary.userId) fallbacks.push(primary.reason);
  if (secondary?.userId && secondary.userId !== primary?.userId) mentions.push({ kind: 'user', id: secondary.userId, role: 'secondary' });
  if (secondary && !secondary.userId) fallbacks.push(secondary.reason);
  if (targets.includes('usergroup') || fallbacks.length > 0) mentions.push(...groupOf(route));

  const reached: Reached[] = [];
  const channel = row.channel ?? route.channel;
  // The channel first: it is the paced, busy one, so a 429 there comes before anything was sent.
  if (mentions.length > 0 && (await stillPending(ports, row.id))) {
    const message = chainThreadMessage({ ...notice, mentions: dedupe(mentions), ...(fallbacks.length ? { fallback: fallbacks.join('; ') } : {}) });
    const { ts } = await ports.slack.post(channel, message, row.cardTs ?? undefined);
    const usergroup = mentions.find((m) => m.kind === 'usergroup')?.id;
    reached.push({ via: 'thread', channel, ts, users: mentions.filter((m) => m.kind === 'user').map((m) => m.id), ...(usergroup ? { usergroup } : {}) });
  }
  if (targets.includes('dm_primary') && primary?.userId && (await stillPending(ports, row.id))) {
    const { channel: dm, ts } = await sendOncallDm(ports, row, primary.userId, { ...(notice.step ? { step: notice.step } : {}), ...(notice.next ? { next: notice.next } : {}), ...(primary.onBehalfOf ? { onBehalfOf: primary.onBehalfOf } : {}) });
    reached.push({ via: 'dm', channel: dm, ts, users: [primary.userId] });
  }
  const paged = [
    ...(primary ? [{ target: 'primary', user: primary.userId ?? null, fallback: primary.fallback }] : []),
    ...(secondary ? [{ target: 'secondary', user: secondary.userId ?? null, fallback: secondary.fallback }] : []),
  ];
  return { reached, paged, oncall: primary?.oncall };
}

function sentPings(reached: readonly Reached[]): SentPing[] {
  return reached.flatMap((r): SentPing[] => (r.via === 'card' ? [] : [{ via: r.via, channel: r.channel, ts: r.ts, ...(r.via === 'dm' ? { user: r.users[0] } : {}) }]));
}

/** The route's whole user group, or its approvers when it names none. */
function groupOf(route: Route): Mention[] {
  if (route.approvers.usergroup) return [{ kind: 'usergroup', id: route.approvers.usergroup }];
  return route.approvers.users.map((id) => ({ kind: 'user', id, role: 'on call' }) as const);
}

function dedupe(mentions: Mention[]): Mention[] {
  const seen = new Set<string>();
  return mentions.filter((m) => !seen.has(m.id) && Boolean(seen.add(m.id)));
}

/** How far ahead a shift-end re-ping is planned for an escalation without a deadline (ms); the re-ping plans the next. */
export const HANDOFF_HORIZON_MS = 24 * 3_600_000;

/**
 * While the escalation waits, the next change of the route's on-call primary
 * (before `until` and the deadline) gets a job at that instant, which pings
 * whoever takes over. Idempotent: the job id is the instant. Returns it, if planned.
 */
export async function planHandoff(
  ports: Pick<FlowPorts, 'db' | 'config' | 'scheduler'>,
  row: Pick<EscalationRow, 'id' | 'deadline'>,
  route: Route,
  now: Date,
  until: Date,
  known?: RouteOnCall,
): Promise<Date | undefined> {
  const oncall = known ?? (await onCallFor(ports, route, now));
  const next = oncall.next;
  if (!next || next.at.getTime() <= now.getTime()) return undefined;
  if (next.at >= until || (row.deadline && next.at >= row.deadline)) return undefined;
  await ports.scheduler.scheduleChainStep({ kind: 'handoff', escalationId: row.id, at: next.at.getTime() }, next.at);
  return next.at;
}

/**
 * A route with schedules but no chain: once the card is posted, plan the
 * re-ping at the next shift change (from the on-call answer the card used,
 * so no second lookup). Chain routes plan theirs in the chain's first step.
 */
export async function planShiftEndPing(
  ports: Pick<FlowPorts, 'db' | 'config' | 'scheduler'>,
  row: Pick<EscalationRow, 'id' | 'deadline' | 'route'>,
  oncall: RouteOnCall | undefined,
): Promise<void> {
  const route = routeByName(ports.config.current().config, row.route ?? '');
  if (!route || route.chain || !oncall?.next) return;
  const now = oncall.at;
  const planned = await planHandoff(ports, row, route, now, new Date(now.getTime() + HANDOFF_HORIZON_MS), oncall);
  if (planned) await cancelIfDecided(ports, row.id);
}

async function runHandoff(ports: ChainPorts, row: EscalationRow, route: Route, at: number): Promise<ChainOutcome> {
  const now = new Date(Math.max(at, ports.now().getTime()));
  let outcome: ChainOutcome = { kind: 'skipped', why: 'repeated' };
  let oncall: RouteOnCall | undefined;
  if (!(await handoffRecorded(ports.db, row.id, at))) {
    const before = (await onCallFor(ports, route, new Date(at - 1))).primary?.user;
    const paged = await pageOnCall(ports, { escalationId: row.id, executionId: row.executionId, route, target: 'primary', urgency: urgencyOf(row), now });
    oncall = paged.oncall;
    const notice: Omit<ChainNotice, 'mentions'> = { ...about(row, route), handoff: true };
    const reached: Reached[] = [];
    const channel = row.channel ?? route.channel;
    const mentions: Mention[] = paged.userId ? [{ kind: 'user', id: paged.userId, role: 'on call' }] : groupOf(route);
    if (await stillPending(ports, row.id)) {
      const message = chainThreadMessage({ ...notice, mentions, ...(paged.fallback ? { fallback: paged.reason } : {}) });
      const { ts } = await ports.slack.post(channel, message, row.cardTs ?? undefined);
      reached.push({ via: 'thread', channel, ts, users: mentions.filter((m) => m.kind === 'user').map((m) => m.id) });
    }
    // A chain DMs the new person; without one, only high and critical escalations do (as the card's own DM).
    const dm = route.chain !== undefined || row.urgency === 'high' || row.urgency === 'critical';
    if (dm && paged.userId && (await stillPending(ports, row.id))) {
      const { channel: dmChannel, ts } = await sendOncallDm(ports, row, paged.userId, { handoff: true, ...(paged.onBehalfOf ? { onBehalfOf: paged.onBehalfOf } : {}) });
      reached.push({ via: 'dm', channel: dmChannel, ts, users: [paged.userId] });
    }
    await recordEvent(ports.db, {
      escalationId: row.id,
      executionId: row.executionId,
      type: 'chain_handoff',
      actor: 'system',
      data: { handoffAt: at, from: before ?? null, to: paged.userId ?? null, fallback: paged.fallback, reason: paged.reason, reached },
    });
    await resolveLateSends(ports, row.id, sentPings(reached));
    outcome = { kind: 'notified', reached };
  }
  await planHandoff(ports, row, route, now, row.deadline ?? new Date(now.getTime() + HANDOFF_HORIZON_MS), oncall);
  await cancelIfDecided(ports, row.id);
  return outcome;
}

/** A decision that landed while this job ran may have missed the job it just scheduled. */
async function cancelIfDecided(ports: Pick<FlowPorts, 'db' | 'scheduler'>, id: string): Promise<void> {
  if (!(await stillPending(ports, id))) await ports.scheduler.cancelChain(id);
}
