import { createHash, randomUUID } from 'node:crypto';
import type { CountersignConfig } from '../domain/config.js';
import { routeByName } from '../domain/routing.js';
import {
  cardsWaiting,
  claimDigestPost,
  closeDigestIfDrained,
  digestMemberIds,
  digestMembers,
  getDigest,
  joinDigest,
  joinOpenDigest,
  markDigestPosted,
  markDigestShown,
  openDigest,
  openDigestOf,
  lapseDigestPost,
  releaseDigestPost,
  settleDigest,
} from '../db/queries/channel-digests.js';
import { LEASE_MS, POST_WINDOW_MS } from '../db/queries/leases.js';
import type { ChannelDigestRow } from '../db/schema/channel-digests.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { RateLimitedError, SlackCallError } from '../errors.js';
import { getEscalation } from '../db/queries/escalations.js';
import { cardPostFailed } from './post-card.js';
import { channelDigestMessage } from '../slack/cards/channel-digest.js';
import type { FlowPorts, SlackMessage } from './ports.js';

/**
 * A burst into one channel. Slack posts about one message a second per
 * channel, so 1,000 cards into one channel take about 17 minutes to appear.
 * Once `slack.digest.backlog` cards wait for a channel's pace, the next ones
 * that would wait go into one digest message instead ("14 approvals waiting:
 * oldest 3 min"), posted once and kept up to date, and are decided from App
 * Home (same buttons, same checks). Other channels' cards never wait on it:
 * a waiting card holds no worker, and a digested one waits for nothing.
 *
 * Never in a digest, by choice: high and critical escalations and those of a
 * route with an escalation chain. Their card is what pages people (its
 * mention, the DM's link, the chain's thread), so they keep it, and they get
 * the channel's pace sooner with the burst out of its way. A card is never
 * both: joining takes the card's own claim (leases.ts), from `none` only.
 */

type JoinPorts = Pick<FlowPorts, 'db' | 'scheduler' | 'config' | 'now'>;
type DigestPorts = Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'config' | 'log' | 'now' | 'leaseMs' | 'scheduler'>;

const updateKeyOf = (channel: string) => `chat.update:${channel}`;
const postKeyOf = (channel: string) => `chat.postMessage:${channel}`;

/** Whether this escalation may go into its channel's digest at all (see above). */
export function digestible(config: CountersignConfig, row: EscalationRow): boolean {
  if (config.slack.digest.backlog === 0 || row.status !== 'pending' || !row.channel || row.cardTs) return false;
  if (row.urgency === 'high' || row.urgency === 'critical') return false;
  return !routeByName(config, row.route ?? '')?.chain;
}

/**
 * Called when the card would wait for its channel's pace: puts it in the
 * channel's open digest, or opens one when the channel's backlog has reached
 * `slack.digest.backlog`. True: it joined (`card_digested` recorded), and no
 * card of its own will be posted. False: nothing changed; it waits its turn.
 * `ownClaim`: the card claim this run holds (intake's fresh one), which the
 * join takes over; without it, only an unclaimed card or a lapsed claim joins.
 */
export async function joinChannelDigest(ports: JoinPorts, row: EscalationRow, ownClaim?: Date): Promise<boolean> {
  const config = ports.config.current().config;
  if (!digestible(config, row)) return false;
  const channel = row.channel!;
  const now = ports.now();
  const event = { escalationId: row.id, executionId: row.executionId, type: 'card_digested', actor: 'system', data: { channel } } as const;
  // The common case in a burst, in one statement: the channel's digest is open, and this joins it.
  if (await joinOpenDigest(ports.db, channel, row.id, now, event, ownClaim)) return true;
  // None was open then; one may be now (another worker opened it meanwhile), and the loop joins it.
  let open: ChannelDigestRow | undefined = await openDigestOf(ports.db, channel);
  if (!open && (await cardsWaiting(ports.db, channel, config.slack.digest.backlog)) < config.slack.digest.backlog) return false;
  // Twice at most: the digest found may close between the read and the join (its last member decided).
  for (let attempt = 0; attempt < 2; attempt++) {
    let opener = false;
    if (!open) {
      const opened = await openDigest(ports.db, randomUUID(), channel, now);
      if (!opened) return false;
      open = opened.row;
      opener = opened.opened;
    }
    const joined = await joinDigest(ports.db, open.id, row.id, now, event, ownClaim);
    // Only the opener enqueues the digest's job, once its own member is in (a job run before would find it empty
    // and close it). The sweep puts back a job that never got there.
    if (opener) await ports.scheduler.enqueueDigest(open.id);
    if (joined) return true;
    const still = await getDigest(ports.db, open.id);
    // Still open: this row cannot join (another run claims or posted its card). Closed: try a new digest.
    if (still && !still.closedAt) return false;
    open = undefined;
  }
  return false;
}

export type DigestResult = { kind: 'wait'; ms: number } | { kind: 'done' };

/** Looking for a digest message posted since its digest opened: this much earlier, for the clocks of Slack and Postgres. */
const CLOCK_SKEW_SEC = 60;

const fingerprint = (m: SlackMessage) => createHash('sha256').update(JSON.stringify(m)).digest('hex').slice(0, 32);

/**
 * The digest's job, one per digest: posts the message at the channel's pace,
 * then brings it up to date every `slack.digest.updateSeconds` while it
 * would change (chat.update, paced on its own key), closes the digest once
 * nothing in it waits, and shows that. `wait`: run again in `ms`.
 */
export async function runDigest(ports: DigestPorts, digestId: string, opts: { refresh?: boolean } = {}): Promise<DigestResult> {
  const d = await getDigest(ports.db, digestId);
  if (!d || d.settledAt) return { kind: 'done' };
  // A refresh (digestChanged) only brings a posted message up to date; the post itself is the digest job's.
  if (opts.refresh && !d.ts) return { kind: 'done' };
  const { digest: cfg } = ports.config.current().config.slack;
  const now = ports.now();
  const closed = d.closedAt !== null || (await closeDigestIfDrained(ports.db, d.id, now, { type: 'digest_closed', actor: 'system', data: { channel: d.channel, digestId: d.id, ts: d.ts } }));
  const lines = await digestMembers(ports.db, d.id);
  const message = channelDigestMessage({ lines, now, closed, ...(cfg.appHomeUrl ? { appHomeUrl: cfg.appHomeUrl } : {}) });
  const shown = fingerprint(message);
  if (!d.ts) {
    // Over before it got its turn: nothing to say in the channel.
    if (closed) return settle(ports, d, now, null);
    return post(ports, d, message, shown, cfg.updateSeconds);
  }
  if (shown !== d.shown) {
    const key = updateKeyOf(d.channel);
    const wait = await ports.pacer.reserve(key);
    if (wait > 0) return { kind: 'wait', ms: wait };
    try {
      await ports.slack.updateCard(d.channel, d.ts, message);
    } catch (err) {
      if (!(err instanceof RateLimitedError)) throw err;
      await ports.pacer.block(key, err.retryAfterMs);
      return { kind: 'wait', ms: err.retryAfterMs };
    }
    await markDigestShown(ports.db, d.id, shown);
  }
  if (closed) return settle(ports, d, now, shown);
  if (opts.refresh) return { kind: 'done' };
  return { kind: 'wait', ms: cfg.updateSeconds * 1000 };
}

/** Decisions on a digest's members within this long make one update of it (ms). */
export const DIGEST_REFRESH_MS = 2_000;

/**
 * A member of digest `digestId` was decided (or expired): its message is
 * brought up to date at the end of the current DIGEST_REFRESH_MS window
 * instead of at its next timer (`slack.digest.updateSeconds`). Every call in
 * one window names the same job, so a burst of decisions makes one
 * chat.update, within 2 s of each, on the channel's chat.update pace.
 */
export async function digestChanged(ports: Pick<FlowPorts, 'scheduler' | 'now'>, digestId: string): Promise<void> {
  const end = Math.floor(ports.now().getTime() / DIGEST_REFRESH_MS + 1) * DIGEST_REFRESH_MS;
  await ports.scheduler.refreshDigest(digestId, String(end), new Date(end));
}

async function settle(ports: Pick<FlowPorts, 'db'>, d: ChannelDigestRow, now: Date, shown: string | null): Promise<DigestResult> {
  await settleDigest(ports.db, d.id, now, shown);
  return { kind: 'done' };
}

/**
 * Posts the digest once, under a claim as a card's (leases.ts), its id in the
 * message's metadata. A post with an unknown outcome (a 5xx, a timeout) keeps
 * its claim until it lapses; the run that takes the lapsed claim over first
 * looks for that message in the channel's history by its metadata, as a
 * card's reconcile does, and records it instead of posting a second one.
 */
async function post(ports: DigestPorts, d: ChannelDigestRow, message: SlackMessage, shown: string, updateSeconds: number): Promise<DigestResult> {
  const key = postKeyOf(d.channel);
  const wait = await ports.pacer.reserve(key);
  if (wait > 0) return { kind: 'wait', ms: wait };
  const now = ports.now();
  const held = await claimDigestPost(ports.db, d.id, now, ports.leaseMs ?? LEASE_MS);
  if (!held) {
    const latest = await getDigest(ports.db, d.id);
    if (latest?.ts) return { kind: 'wait', ms: 1 };
    return { kind: 'wait', ms: Math.max(1, (latest?.postLeaseUntil?.getTime() ?? now.getTime() + POST_WINDOW_MS) - now.getTime()) };
  }
  if (held.lapsed) {
    let found: string | undefined;
    try {
      found = await ports.slack.findDigest(d.channel, d.id, Math.floor(d.openedAt.getTime() / 1000) - CLOCK_SKEW_SEC);
    } catch (err) {
      // Not known yet either way: the next run looks again (never posts blind).
      await lapseDigestPost(ports.db, d.id, now);
      if (err instanceof RateLimitedError) return { kind: 'wait', ms: err.retryAfterMs };
      throw err;
    }
    if (found) {
      // Shown: unknown (it is what the lost post said), so the next run brings it up to date.
      await markDigestPosted(ports.db, d.id, found, '', { type: 'digest_posted', actor: 'system', data: { channel: d.channel, digestId: d.id, ts: found, reconciled: true } });
      ports.log.info({ channel: d.channel, digestId: d.id, ts: found }, 'channel digest found posted');
      return { kind: 'wait', ms: 1 };
    }
  }
  let ts: string;
  try {
    ({ ts } = await ports.slack.postDigest(d.channel, message, d.id));
  } catch (err) {
    if (err instanceof RateLimitedError) {
      await ports.pacer.block(key, err.retryAfterMs);
      await releaseDigestPost(ports.db, d.id);
      return { kind: 'wait', ms: err.retryAfterMs };
    }
    if (err instanceof SlackCallError && err.definite) await releaseDigestPost(ports.db, d.id);
    if (err instanceof SlackCallError && err.permanent) return digestPostFailed(ports, d, err.slackError, now);
    throw err;
  }
  await markDigestPosted(ports.db, d.id, ts, shown, { type: 'digest_posted', actor: 'system', data: { channel: d.channel, digestId: d.id, ts } });
  ports.log.info({ channel: d.channel, digestId: d.id, ts }, 'channel digest posted');
  return { kind: 'wait', ms: updateSeconds * 1000 };
}

/**
 * Slack refuses the digest for good (the channel is gone, the bot was removed):
 * given up loudly, as a card would be (post-card.ts cardPostFailed). Every
 * escalation still waiting in it gets its `card_post_failed` record and alert,
 * stays decidable from App Home and denied by its deadline if nobody decides;
 * the digest is settled, so its job stops instead of retrying a post that
 * cannot succeed.
 */
async function digestPostFailed(ports: DigestPorts, d: ChannelDigestRow, error: string, now: Date): Promise<DigestResult> {
  for (const id of await digestMemberIds(ports.db, d.id)) {
    const row = await getEscalation(ports.db, id);
    if (row?.status === 'pending') await cardPostFailed(ports, row, error, 1);
  }
  ports.log.error({ channel: d.channel, digestId: d.id, error }, 'channel digest not posted: given up');
  return settle(ports, d, now, null);
}
