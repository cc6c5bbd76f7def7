import { findCardUnknown, findCardless, findOverdue, findUnnotified } from '../db/queries/escalations.js';
import { resumeLostChains } from './chain-sweep.js';
import { expire } from './expire.js';
import { endLapsed } from './delegation.js';
import { unsettledDigests } from '../db/queries/channel-digests.js';
import type { FlowPorts } from './ports.js';

/** Grace before a decision without a notification counts as lost (ms). */
const NOTIFY_GRACE_MS = 60_000;
/** How far back the sweep looks for a decided escalation whose card a crash left unknown (ms): a day. */
const CARD_UNKNOWN_WINDOW_MS = 24 * 3600_000;

/**
 * The safety net behind the delayed jobs: if a process died between a commit
 * and its enqueue, or Redis lost a timer, this finds the row and redoes the
 * step. Every step it calls is idempotent.
 */
export async function sweep(
  ports: Pick<FlowPorts, 'db' | 'scheduler' | 'now' | 'config' | 'log'>,
  /** `notifyGraceMs` 0: every decision not yet handed back, e.g. after Redis lost its jobs (rebuild.ts). */
  opts: { notifyGraceMs?: number } = {},
): Promise<{ notified: number; carded: number; expired: number; chainsResumed: number; cardsToReconcile: number }> {
  const now = ports.now();
  const graceEnd = new Date(now.getTime() - NOTIFY_GRACE_MS);
  const unnotified = await findUnnotified(ports.db, new Date(now.getTime() - (opts.notifyGraceMs ?? NOTIFY_GRACE_MS)));
  for (const id of unnotified) await ports.scheduler.enqueueNotify(id);
  // Pending without a card: its card job's id is the escalation's, so a job still
  // waiting (a paced or retried card, the agent's own job) makes this a no-op.
  const cardless = await findCardless(ports.db, graceEnd);
  for (const id of cardless) await ports.scheduler.enqueueCard(id);
  // Decided while a crash left the card's state unknown: the card job finds the card (notify.ts) and updates it.
  const unknown = await findCardUnknown(ports.db, graceEnd, new Date(now.getTime() - CARD_UNKNOWN_WINDOW_MS));
  for (const id of unknown) await ports.scheduler.enqueueNotify(id, 'card');
  let expired = 0;
  for (const id of await findOverdue(ports.db, now)) if (await expire(ports, id)) expired++;
  // Escalation chains whose next step's job Redis lost; shift-end re-pings planned again.
  const chains = await resumeLostChains(ports);
  // Channel digests whose job was lost (a repeat of one still in Redis is a no-op).
  const digests = await unsettledDigests(ports.db);
  for (const id of digests) await ports.scheduler.enqueueDigest(id);
  // Out-of-office delegations past their end date: recorded as ended (they stopped counting at the end date already).
  await endLapsed(ports);
  return { notified: unnotified.length, carded: cardless.length, expired, chainsResumed: chains.resumed, cardsToReconcile: unknown.length };
}
