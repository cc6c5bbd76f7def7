import { pageeFor } from '../domain/delegation.js';
import { routeByName } from '../domain/routing.js';
import { redactorOf } from '../domain/audit-config.js';
import { delegationsFrom } from '../db/queries/delegations.js';
import { getEscalation } from '../db/queries/escalations.js';
import { recordEvent, recordEvents } from '../db/queries/events.js';
import { cardEvents, latestSnooze, recordIfPending, snoozeRepinged } from '../db/queries/handoffs.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import type { ChainJob } from '../domain/escalation-chain.js';
import { RateLimitedError } from '../errors.js';
import { escalationCard } from '../slack/cards/escalation-card.js';
import type { CardHandoff, CardOncall } from '../slack/cards/view-model.js';
import { sendOncallDm, type DmExtras } from './card-oncall.js';
import { cardStateOf, postClaimLeftMs } from './card-state.js';
import { resolveLateSends } from './close-loop.js';
import { authorizeDecider, type DecideOutcome } from './decide.js';
import { updateKey } from './notify.js';
import type { FlowPorts } from './ports.js';

/**
 * Hand-offs on a waiting card: *Snooze* (ping me again later) and
 * *Reassign…* (hand it to another approver of the route, with a DM). Both
 * are for the people who could approve it: the route's approvers and their
 * out-of-office delegates, never the agent's owner (a hand-off steers who
 * approves, and the owner has no say in that; they may still deny). Neither
 * moves the deadline: the expiry timer is untouched, and the fail-safe deny
 * still comes at the deadline. Each is recorded while the escalation is
 * pending, guarded in SQL, so one racing a decision records nothing.
 */

type Ports = Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'config' | 'scheduler' | 'log' | 'now'>;

export interface HandoffTarget {
  escalationId: string;
  /** The digest the card was built for. */
  digest: string;
  userId: string;
  channel?: string;
}

/** Refused, already over, or allowed (perhaps as someone's delegate). */
type Allowed = { kind: 'allowed'; row: EscalationRow; onBehalfOf?: string };
type Gate = Allowed | Exclude<DecideOutcome, { kind: 'made' | 'voted' | 'already_voted' | 'invalid' }>;

/**
 * May this person hand the card off? The approve rule (src/domain/authz.ts),
 * delegations included; a refusal is recorded like a refused decision
 * (`decision_refused` with the hand-off's kind), so `explain` shows it.
 */
export async function handoffGate(ports: Ports, t: HandoffTarget, kind: 'snooze' | 'reassign'): Promise<Gate> {
  const row = await getEscalation(ports.db, t.escalationId);
  if (!row || row.status === 'rejected') return { kind: 'unknown' };
  if (row.status !== 'pending') return { kind: 'already', row };
  const authz = await authorizeDecider(ports, row, t.userId, 'approve');
  const refusal = authz.refusal ?? (row.digest !== t.digest ? ({ kind: 'refused', reason: 'request_changed', route: row.route } as const) : undefined);
  if (refusal) {
    await recordEvents(ports.db, [
      { escalationId: row.id, executionId: row.executionId, type: 'decision_refused', actor: t.userId, data: { kind, reason: refusal.reason, channel: t.channel ?? null } },
    ]);
    return refusal;
  }
  return { kind: 'allowed', row, ...(authz.onBehalfOf ? { onBehalfOf: authz.onBehalfOf } : {}) };
}

export type SnoozeOutcome = { kind: 'snoozed'; until: Date } | Exclude<DecideOutcome, { kind: 'made' | 'voted' | 'already_voted' | 'invalid' }>;

/**
 * Snooze: the person is pinged again (a DM) `handoffs.snoozeMinutes` from
 * now, by a delayed job on the chains queue (so a decision cancels it with
 * the chain's other jobs), keyed by escalation, person and end. The record
 * (`snoozed`) is what rebuild.ts schedules it from after Redis lost it.
 */
export async function snooze(ports: Ports, t: HandoffTarget): Promise<SnoozeOutcome> {
  const g = await handoffGate(ports, t, 'snooze');
  if (g.kind !== 'allowed') return g;
  const minutes = ports.config.current().config.handoffs.snoozeMinutes;
  const now = ports.now();
  const until = new Date(now.getTime() + minutes * 60_000);
  const recorded = await recordIfPending(ports.db, {
    escalationId: g.row.id,
    executionId: g.row.executionId,
    type: 'snoozed',
    actor: t.userId,
    data: { user: t.userId, minutes, until: until.toISOString(), deadline: g.row.deadline?.toISOString() ?? null, channel: t.channel ?? null, ...(g.onBehalfOf ? { onBehalfOf: g.onBehalfOf } : {}) },
  });
  if (!recorded) return { kind: 'already', row: (await getEscalation(ports.db, g.row.id)) ?? g.row };
  await ports.scheduler.scheduleChainStep({ kind: 'snooze', escalationId: g.row.id, user: t.userId, at: until.getTime() }, until);
  // A decision that landed meanwhile may have cancelled the chain's jobs before this one was added.
  if ((await getEscalation(ports.db, g.row.id))?.status !== 'pending') await ports.scheduler.cancelChain(g.row.id);
  await refreshPendingCard(ports, g.row.id);
  return { kind: 'snoozed', until };
}

export type SnoozeJobOutcome = { kind: 'skipped'; why: 'stale' | 'repeated' | 'not_pending' } | { kind: 'notified'; user: string; channel: string; ts: string };

/**
 * A snooze ran out: DM the person who snoozed (or, while they are out of
 * office, their delegate), unless the escalation was decided meanwhile
 * (the caller checked it was pending), the person snoozed again since (the
 * later snooze's job pings them), or this re-ping was already sent.
 */
export async function runSnoozeJob(ports: Ports, row: EscalationRow, job: Extract<ChainJob, { kind: 'snooze' }>): Promise<SnoozeJobOutcome> {
  const until = new Date(job.at).toISOString();
  if ((await latestSnooze(ports.db, row.id, job.user)) !== until) return { kind: 'skipped', why: 'stale' };
  if (await snoozeRepinged(ports.db, row.id, job.user, until)) return { kind: 'skipped', why: 'repeated' };
  const to = await reachable(ports, job.user);
  if ((await getEscalation(ports.db, row.id))?.status !== 'pending') return { kind: 'skipped', why: 'not_pending' };
  const sent = await sendOncallDm(ports, row, to.user, { reason: { kind: 'snooze' }, ...(to.onBehalfOf ? { onBehalfOf: to.onBehalfOf } : {}) });
  await recordEvent(ports.db, {
    escalationId: row.id,
    executionId: row.executionId,
    type: 'oncall_dm',
    actor: 'system',
    data: { user: to.user, channel: sent.channel, ts: sent.ts, cause: 'snooze', snoozedBy: job.user, snoozedUntil: until, ...(to.onBehalfOf ? { onBehalfOf: to.onBehalfOf } : {}) },
  });
  await resolveLateSends(ports, row.id, [{ via: 'dm', channel: sent.channel, ts: sent.ts, user: to.user }]);
  return { kind: 'notified', user: to.user, channel: sent.channel, ts: sent.ts };
}

/** Whom a message for `user` reaches now: their delegate while they are out of office. */
async function reachable(ports: Pick<FlowPorts, 'db' | 'now'>, user: string): Promise<{ user: string; onBehalfOf?: string }> {
  const now = ports.now();
  return pageeFor(await delegationsFrom(ports.db, [user], now), user, now);
}

export interface ReassignInput extends HandoffTarget {
  /** The approver it is handed to. */
  to: string | undefined;
  note?: string;
}

/** A refusal names the modal's field (`assignee`): Slack shows it under that input. */
export type ReassignOutcome =
  | { kind: 'reassigned'; row: EscalationRow; to: string; note: string | null; onBehalfOf?: string }
  | { kind: 'invalid'; field: 'assignee'; message: string };

/**
 * Reassign…'s submit, up to the record: the submitter may hand off (as for
 * snooze), the new assignee is an approver of the route (its users or its
 * user group's members) and not the agent's owner, and the escalation still
 * waits. The `reassigned` event is recorded guarded on `pending`. The DM and
 * the card follow (afterReassign), after the modal closes.
 */
export async function commitReassign(ports: Ports, input: ReassignInput): Promise<ReassignOutcome> {
  const invalid = (message: string) => ({ kind: 'invalid', field: 'assignee', message }) as const;
  if (!input.to || !/^[UW][A-Z0-9]{2,}$/.test(input.to)) return invalid('Pick the approver to hand this to.');
  const g = await handoffGate(ports, input, 'reassign');
  if (g.kind === 'unknown') return invalid('This escalation is unknown, so nothing was reassigned.');
  if (g.kind === 'already') return invalid(`Too late: this request is already ${g.row.status}.`);
  if (g.kind === 'refused') {
    if (g.reason === 'owner_cannot_approve') return invalid('You own this agent, so you cannot hand its requests to someone else.');
    if (g.reason === 'request_changed') return invalid('This card no longer matches the request it was shown for.');
    return invalid(`Only the approvers of route ${g.route ?? '?'} (and their delegates) may reassign its requests.`);
  }
  const row = g.row;
  // Plain text: Slack shows a modal's field errors without formatting, so no mentions here.
  if (input.to === row.agentOwner) return invalid('That person owns this agent, so they cannot approve its actions. Pick another approver.');
  const route = routeByName(ports.config.current().config, row.route ?? '');
  const members = route?.approvers.usergroup ? await ports.slack.usergroupMembers(route.approvers.usergroup) : [];
  if (!route || !(route.approvers.users.includes(input.to) || members.includes(input.to))) {
    return invalid(`That person is not an approver of route ${row.route ?? '?'}, so they could not decide it. Pick one of its approvers.`);
  }
  const note = input.note?.trim() ? redactorOf(ports.config.current().config.audit).text(input.note.trim()).slice(0, 300) : null;
  const previous = currentAssignee(await cardEvents(ports.db, row.id));
  const recorded = await recordIfPending(ports.db, {
    escalationId: row.id,
    executionId: row.executionId,
    type: 'reassigned',
    actor: input.userId,
    data: { from: previous ?? null, to: input.to, note, channel: input.channel ?? null, ...(g.onBehalfOf ? { onBehalfOf: g.onBehalfOf } : {}) },
  });
  if (!recorded) return invalid('Too late: this request was decided meanwhile.');
  return { kind: 'reassigned', row, to: input.to, note, ...(g.onBehalfOf ? { onBehalfOf: g.onBehalfOf } : {}) };
}

/** After the record: the DM to the new assignee (or their delegate; nobody DMs themselves), then the card. */
export async function afterReassign(ports: Ports, by: string, done: Extract<ReassignOutcome, { kind: 'reassigned' }>): Promise<void> {
  const to = await reachable(ports, done.to);
  if (to.user !== by) {
    try {
      const extras: DmExtras = { reason: { kind: 'reassigned', by, ...(done.note ? { note: done.note } : {}) }, ...(to.onBehalfOf ? { onBehalfOf: to.onBehalfOf } : {}) };
      const sent = await sendOncallDm(ports, done.row, to.user, extras);
      await recordEvent(ports.db, {
        escalationId: done.row.id,
        executionId: done.row.executionId,
        type: 'oncall_dm',
        actor: 'system',
        data: { user: to.user, channel: sent.channel, ts: sent.ts, cause: 'reassigned', assignee: done.to, ...(to.onBehalfOf ? { onBehalfOf: to.onBehalfOf } : {}) },
      });
      await resolveLateSends(ports, done.row.id, [{ via: 'dm', channel: sent.channel, ts: sent.ts, user: to.user }]);
    } catch (err) {
      ports.log.warn({ err: (err as Error).message, escalationId: done.row.id, user: to.user }, 'reassign DM failed');
    }
  }
  await refreshPendingCard(ports, done.row.id);
}

type CardEvent = Awaited<ReturnType<typeof cardEvents>>[number];

function currentAssignee(evs: readonly CardEvent[]): string | undefined {
  const last = evs.filter((e) => e.type === 'reassigned').at(-1);
  return typeof last?.data['to'] === 'string' ? last.data['to'] : undefined;
}

/** The card's hand-off line, from its events: the latest reassignment and the latest snooze. */
export function handoffOf(evs: readonly CardEvent[]): CardHandoff | undefined {
  const out: CardHandoff = {};
  const r = evs.filter((e) => e.type === 'reassigned').at(-1);
  if (r && typeof r.data['to'] === 'string') {
    const behalf = r.data['onBehalfOf'];
    out.assignee = { to: r.data['to'], by: r.actor, at: r.at, ...(typeof behalf === 'string' ? { onBehalfOf: behalf } : {}) };
  }
  const s = evs.filter((e) => e.type === 'snoozed').at(-1);
  if (s && typeof s.data['until'] === 'string') out.snooze = { by: String(s.data['user'] ?? s.actor), until: new Date(s.data['until']) };
  return out.assignee || out.snooze ? out : undefined;
}

/**
 * The on-call line the card was posted with, from the `paged` event recorded
 * with `card_posted` (in the same statement, so with the same transaction
 * time `at`; not always the next id, as a hand-off recorded meanwhile may
 * draw an id between the two). A route without schedules pages nobody and
 * asks its group. A route with schedules whose card was recorded without
 * its page (the look-up failed, or the card was found in Slack after a
 * crash) shows no on-call line rather than a wrong one: undefined.
 */
export function oncallOf(evs: readonly CardEvent[], route: { name: string; schedules?: readonly string[]; approvers: { users: string[]; usergroup?: string } }): CardOncall | undefined {
  const i = evs.findIndex((e) => e.type === 'card_posted');
  const posted = evs[i];
  const paged = posted ? evs.slice(i + 1).find((e) => e.type === 'paged' && e.at.getTime() === posted.at.getTime())?.data : undefined;
  const base = { route: route.name, approvers: route.approvers.users, ...(route.approvers.usergroup ? { usergroup: route.approvers.usergroup } : {}) };
  if (!paged) return route.schedules?.length ? undefined : { ...base, scheduled: false, skipped: [] };
  const considered = Array.isArray(paged['considered']) ? (paged['considered'] as Array<{ user: string; paged: boolean; why: string }>) : [];
  return {
    ...base,
    ...(typeof paged['user'] === 'string' ? { userId: paged['user'] } : {}),
    scheduled: paged['scheduled'] !== false,
    skipped: considered.filter((c) => !c.paged).map((c) => ({ user: c.user, why: c.why })),
  };
}

/**
 * A hand-off can land between the card's post and its record (the person
 * clicks the card Slack shows; the ts and who it paged are recorded when
 * Slack's reply comes back): the refresh waits for that record, reading the
 * row this many times (RECORD_POLL_MS apart, so 5 s at most) while the post
 * holds its claim. Reads are counted as well: a test's fixed clock cannot
 * stall them.
 */
const RECORD_POLLS = 50;
const RECORD_POLL_MS = 100;

async function onceCardRecorded(ports: Ports, escalationId: string): Promise<EscalationRow | undefined> {
  for (let n = 0; ; n++) {
    const row = await getEscalation(ports.db, escalationId);
    if (!row || row.status !== 'pending' || postClaimLeftMs(row, ports.now()) === 0) return row;
    if (n === RECORD_POLLS) {
      ports.log.warn({ escalationId }, 'hand-off card update skipped: the card was not recorded in time');
      return row;
    }
    await new Promise((r) => setTimeout(r, RECORD_POLL_MS));
  }
}

/** A click's update waits for the channel's pace at most this long (ms); past it, the card waits for its next update. */
const REFRESH_WAIT_MAX_MS = 2000;

/**
 * Brings a waiting card up to date after a hand-off: the same builder, with
 * its on-call line as posted and the hand-off line. If the escalation was
 * decided while this ran, the card is written again in its decided state,
 * so a late hand-off never leaves live buttons on a decided card.
 */
export async function refreshPendingCard(ports: Ports, escalationId: string): Promise<void> {
  const row = await onceCardRecorded(ports, escalationId);
  if (!row || row.status !== 'pending' || !row.cardTs || !row.channel) return;
  const { config } = ports.config.current();
  const route = routeByName(config, row.route ?? '');
  const evs = await cardEvents(ports.db, row.id);
  const handoff = handoffOf(evs);
  const oncall = route ? oncallOf(evs, route) : undefined;
  const state = { ...cardStateOf(row, config), ...(oncall ? { oncall } : {}), ...(handoff ? { handoff } : {}) };
  try {
    const wait = await ports.pacer.reserve(updateKey(row.channel));
    if (wait > REFRESH_WAIT_MAX_MS) return void ports.log.warn({ escalationId, wait }, 'hand-off card update skipped: the channel is busy');
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await ports.slack.updateCard(row.channel, row.cardTs, escalationCard(state));
    const latest = await getEscalation(ports.db, escalationId);
    if (latest && latest.status !== 'pending') await ports.slack.updateCard(row.channel, row.cardTs, escalationCard(cardStateOf(latest, config)));
  } catch (err) {
    if (!(err instanceof RateLimitedError)) throw err;
    await ports.pacer.block(updateKey(row.channel), err.retryAfterMs);
    ports.log.warn({ escalationId }, 'hand-off card update rate limited');
  }
}
