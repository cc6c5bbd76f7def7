import { getEscalation } from '../db/queries/escalations.js';
import { LEASE_MARGIN_MS, POST_WINDOW_MS, claimCardPost, releaseCardLease, releaseCardPost, renewCardPost } from '../db/queries/leases.js';
import { getEscalationGrouped, markCardPostedRecordedGrouped } from '../db/queries/card-batch.js';
import { recordEvent, type EventInput } from '../db/queries/events.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { RateLimitedError, SlackCallError } from '../errors.js';
import { routeByName } from '../domain/routing.js';
import { escalationCard } from '../slack/cards/escalation-card.js';
import { cardStateOf, postClaimLeftMs } from './card-state.js';
import { joinChannelDigest } from './channel-digest.js';
import { dmOnCallIfUrgent, oncallForCard } from './card-oncall.js';
import { planShiftEndPing, startChain } from './chain.js';
import type { FlowPorts } from './ports.js';

/** `failed`: given up for good, recorded and alerted (cardPostFailed). */
/** `digest`: a burst into its channel put it in the channel's digest instead (channel-digest.ts). */
export type PostResult =
  | { kind: 'posted'; ts: string; reconciled: boolean }
  | { kind: 'skipped' }
  | { kind: 'digest' }
  | { kind: 'wait'; ms: number }
  | { kind: 'failed'; error: string };

/** How far back to look for a card a crashed attempt may have posted (s). */
const RECONCILE_WINDOW_SEC = 600;

export const postKey = (channel: string) => `chat.postMessage:${channel}`;

/**
 * Step 3: put the card in the channel, exactly once per escalation.
 * `posting` without a ts means an earlier attempt may have posted before it
 * died, so look for that card (by message metadata) before posting again.
 */
export async function postCard(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'log' | 'config' | 'scheduler' | 'now' | 'leaseMs'>,
  row: EscalationRow,
  opts: { fresh: boolean },
): Promise<PostResult> {
  // Pending approvals get a decision card; supervised actions that ran get a review card.
  const wanted = row.status === 'pending' || (row.status === 'allowed' && row.reviewState === 'pending');
  // In its channel's digest: shown there, decided from App Home, never posted on its own.
  if (!wanted || row.cardState === 'posted' || row.cardState === 'digest' || !row.channel) {
    // A crash may have come between recording the card and starting its chain; starting is idempotent.
    if (row.cardState === 'posted' && row.status === 'pending') await startChain(ports, row);
    return { kind: 'skipped' };
  }
  const channel = row.channel;
  // Fresh from intake, whose insert already set the marker and its lease (no extra round trip).
  const marked = opts.fresh && row.cardState === 'posting';
  const now = ports.now();
  if (!marked) {
    // Another run of this job holds the post (BullMQ handed it out twice): wait for it, never post beside it.
    const lease = postClaimLeftMs(row, now);
    if (lease > 0) return { kind: 'wait', ms: lease };
    if (row.cardState === 'posting') {
      const oldest = Math.floor(row.createdAt.getTime() / 1000) - RECONCILE_WINDOW_SEC;
      const found = await ports.slack.findCard(channel, row.id, oldest);
      if (found) return record(ports, row, found, true);
    }
  }
  const wait = await ports.pacer.reserve(postKey(channel));
  if (wait > 0) {
    // A burst into this channel: past its backlog, the card goes into the channel's digest instead of waiting.
    // Intake's fresh claim is this run's own: the join takes it over in the same statement.
    if (await joinChannelDigest(ports, row, marked ? (row.cardLeaseUntil ?? undefined) : undefined)) return { kind: 'digest' };
    // Nothing was posted: the retry must not take the marker for a crashed post and look for the card.
    if (marked) await releaseCardPost(ports.db, row.id);
    return { kind: 'wait', ms: wait };
  }
  // The claim this run holds: taken by intake's insert, or now.
  let held = marked ? row.cardLeaseUntil : null;
  if (!marked) {
    const claim = await claimCardPost(ports.db, row.id, now, ports.leaseMs);
    if (claim.kind === 'done') return { kind: 'skipped' };
    if (claim.kind === 'held') return { kind: 'wait', ms: Math.max(1, claim.untilMs - now.getTime()) };
    held = claim.until;
  }

  // Whom the card pings (on call, available), chosen now: off the intake transaction.
  const oncall = await oncallForCard(ports, row).catch(async (err: unknown) => {
    await releaseCardLease(ports.db, row.id).catch(() => {});
    throw err;
  });
  // Too little of the claim left to cover the call (a slow run): renew it first, or learn that
  // another run took it over while this one stalled, and leave the post to that run.
  const start = ports.now().getTime();
  if (held && held.getTime() - start < POST_WINDOW_MS && !(await renewCardPost(ports.db, row.id, held, new Date(start + POST_WINDOW_MS)))) {
    return { kind: 'wait', ms: POST_WINDOW_MS };
  }
  try {
    // Marked: intake stored this row a moment ago, its request masked (see cardStateOf).
    const shown = cardStateOf(row, ports.config.current().config, { storedMasked: marked });
    const state = { ...shown, ...(oncall ? { oncall: oncall.card } : {}) };
    const { ts } = await ports.slack.postCard(channel, escalationCard(state), row.id);
    const posted = await record(ports, row, ts, false, oncall?.page.event);
    // The DM links to the card: it needs the ts just recorded.
    await dmOnCallIfUrgent(ports, { ...row, cardTs: ts }, oncall?.page);
    // The next shift change pings whoever takes over (routes without a chain; a chain plans its own). If this fails, the sweep plans it.
    await planShiftEndPing(ports, row, oncall?.page.oncall).catch((err: Error) => ports.log.warn({ err: err.message, escalationId: row.id }, 'cannot plan the shift-end re-ping'));
    return posted;
  } catch (err) {
    if (err instanceof RateLimitedError) {
      await ports.pacer.block(postKey(channel), err.retryAfterMs);
      await releaseCardPost(ports.db, row.id);
      return { kind: 'wait', ms: err.retryAfterMs };
    }
    // Slack answered: nothing was posted, so the next try need not look for the card.
    if (err instanceof SlackCallError && err.definite) await releaseCardPost(ports.db, row.id);
    // Slack answered with an unknown outcome (a 5xx): the marker stays, so the retry looks for the card
    // first, but nothing is still on its way, so the retry need not wait out the lease. With no answer
    // at all (a timeout, a reset) the post may still land: the claim holds LEASE_MARGIN_MS more, and the retry looks after that.
    else {
      const landing = err instanceof SlackCallError && !err.settled;
      await releaseCardLease(ports.db, row.id, landing ? new Date(ports.now().getTime() + LEASE_MARGIN_MS) : null).catch(() => {});
    }
    if (err instanceof SlackCallError && err.permanent) return cardPostFailed(ports, row, err.slackError, 1);
    throw err;
  }
}

export type ReconcileResult = { kind: 'posted'; ts: string } | { kind: 'none' } | { kind: 'wait'; ms: number };

/**
 * An escalation decided (or expired, or reviewed) while its card's state is
 * unknown: `posting` without a ts, left by a process that died around its
 * post. Its recovered job no longer posts (nothing is wanted), so the card may
 * sit in the channel with live buttons for good. Look it up by its metadata
 * and record its ts (a `card_posted` event, `reconciled: true`), so the caller
 * updates it like any decided card. Slack showing no such card means it was
 * never posted: the state becomes `none`. A card posted after that look-up
 * (a live worker's post in flight) records its own ts and brings itself up to
 * date (see `record`).
 */
export async function reconcileCard(
  ports: Pick<FlowPorts, 'db' | 'slack' | 'scheduler' | 'config'>,
  row: EscalationRow,
): Promise<ReconcileResult> {
  if (row.cardTs) return { kind: 'posted', ts: row.cardTs };
  if (row.cardState !== 'posting' || !row.channel) return { kind: 'none' };
  const oldest = Math.floor(row.createdAt.getTime() / 1000) - RECONCILE_WINDOW_SEC;
  let found: string | undefined;
  try {
    found = await ports.slack.findCard(row.channel, row.id, oldest);
  } catch (err) {
    if (err instanceof RateLimitedError) return { kind: 'wait', ms: err.retryAfterMs };
    throw err;
  }
  if (!found) {
    await releaseCardPost(ports.db, row.id);
    return { kind: 'none' };
  }
  await record(ports, row, found, true);
  // Another process may have recorded the same card first: its ts is the one kept.
  const latest = await getEscalationGrouped(ports.db, row.id);
  return latest?.cardTs ? { kind: 'posted', ts: latest.cardTs } : { kind: 'none' };
}

/**
 * A card whose escalation job Redis lost (an emptied Redis; src/flow/rebuild.ts
 * enqueues it): posted from the row. Never taken as fresh, so a card an
 * earlier attempt may have posted (`posting`) is looked for first.
 */
export async function postLostCard(ports: Parameters<typeof postCard>[0], escalationId: string): Promise<PostResult> {
  const row = await getEscalation(ports.db, escalationId);
  if (!row) return { kind: 'skipped' };
  return postCard(ports, row, { fresh: false });
}

/**
 * A card that will not go out (Slack refuses it, or kept failing for
 * `failures` tries in a row) is given up loudly: a `card_post_failed` record
 * and an alert, never a silent gap. The escalation stays pending, so its
 * deadline still denies it (fail-safe) and tells the agent.
 */
export async function cardPostFailed(
  ports: Pick<FlowPorts, 'db' | 'scheduler'>,
  row: EscalationRow,
  error: string,
  failures: number,
): Promise<PostResult> {
  await recordEvent(ports.db, {
    escalationId: row.id,
    executionId: row.executionId,
    type: 'card_post_failed',
    actor: 'system',
    data: { channel: row.channel, error, failures },
  });
  await ports.scheduler.enqueueAlert({ kind: 'card_post_failed', escalationId: row.id, agentId: row.agentId, cardChannel: row.channel, error }, `card_post_failed:${row.id}`);
  return { kind: 'failed', error };
}

async function record(ports: Pick<FlowPorts, 'db' | 'scheduler' | 'config'>, row: EscalationRow, ts: string, reconciled: boolean, paged?: EventInput): Promise<PostResult> {
  // The guarded UPDATE and its events in one statement: they exist only if this ts was recorded.
  // Who the card asks, as configured when it went out (the audit's "who was paged"; on call rides in `paged`).
  const approvers = routeByName(ports.config.current().config, row.route ?? '')?.approvers;
  const posted: EventInput = { escalationId: row.id, executionId: row.executionId, type: 'card_posted', actor: 'system', data: { channel: row.channel, ts, reconciled, approvers: approvers ?? null } };
  // Group-committed with concurrent cards: still one statement per card's update and events, shared.
  const recorded = await markCardPostedRecordedGrouped(ports.db, row.id, ts, paged ? [posted, paged] : posted);
  // Decided (or expired, or reviewed) while the card was on its way: it shows a stale
  // state with live buttons, so bring it up to date like any decided card.
  const stale = recorded !== undefined && (recorded.status !== row.status || recorded.reviewState !== row.reviewState);
  if (stale) await ports.scheduler.enqueueNotify(row.id, 'card');
  // The escalation chain (if the route has one) starts once the card is there to thread under.
  else if (recorded?.status === 'pending') await startChain(ports, row);
  return { kind: 'posted', ts, reconciled };
}
