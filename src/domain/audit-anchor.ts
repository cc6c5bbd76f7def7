/**
 * Anchors: the chain head, posted to Slack now and then. Slack keeps its own
 * copy of each message, out of reach of anyone who controls the database, so
 * a superuser who rewrites events and recomputes every later link is caught
 * when `countersign audit verify --anchors` compares the anchored hashes with
 * the recomputed chain.
 */

import { plural } from './format.js';

export interface Anchor {
  /** The last sealed event. */
  eventId: number;
  /** That event's link hash (hex SHA-256). */
  hash: string;
  /** Links sealed in the chain at the time (after any pruning). */
  count: number;
}

/** Version 1 of the machine-readable line; `verify --anchors` only trusts lines in this exact form. */
const LINE = /countersign-anchor v1 event=(\d{1,18}) hash=([0-9a-f]{64}) count=(\d{1,18})/;

export function anchorLine(a: Anchor): string {
  return `countersign-anchor v1 event=${a.eventId} hash=${a.hash} count=${a.count}`;
}

/** The message text: a readable sentence, then the line in a code span (mrkdwn leaves it untouched). */
export function anchorText(a: Anchor): string {
  return `:anchor: Audit chain head: event ${a.eventId}, ${plural(a.count, 'sealed record')}. \`${anchorLine(a)}\``;
}

export function parseAnchor(text: string | undefined): Anchor | undefined {
  const m = LINE.exec(text ?? '');
  if (!m) return undefined;
  return { eventId: Number(m[1]), hash: m[2]!, count: Number(m[3]) };
}

/** An anchor read back from Slack, with where it was found. */
export interface PostedAnchor extends Anchor {
  ts: string;
}

export type AnchorCheck =
  | { kind: 'match'; anchor: PostedAnchor }
  /** Anchored before the last prune, at an event that no longer exists: cannot be checked. */
  | { kind: 'pruned'; anchor: PostedAnchor }
  /**
   * The checkpoint claims to have pruned an event that was anchored well after
   * its cutoff (or the checkpoint itself is impossible): a forged checkpoint
   * hiding rewritten history.
   */
  | { kind: 'inconsistent'; anchor: PostedAnchor }
  | { kind: 'mismatch'; anchor: PostedAnchor; actual: string }
  /** The chain no longer reaches the anchored event: links were removed from its end. */
  | { kind: 'missing'; anchor: PostedAnchor };

/** Retention never prunes anything younger than this (countersign_prune_audit refuses). */
const MIN_RETENTION_MS = 31 * 86_400_000;
/**
 * An anchored event is at most about `everyMinutes` (≤ 7 days) older than its
 * anchor, since every anchor is itself an event that the next one covers.
 */
const ANCHOR_AGE_GRACE_MS = 8 * 86_400_000;

/** The last prune, as far as anchors are concerned. */
export interface PruneCheckpoint {
  upTo: number;
  hash: string;
  cutoff: Date;
  at: Date;
}

/**
 * Checks anchors against link hashes recomputed from the events.
 * `hashAt` gives the recomputed hash of an event id, or undefined when the
 * chain has no such link; `pruned` is the last retention checkpoint. An
 * anchor older than the checkpoint can only be checked for plausibility: it
 * must have been posted before the checkpoint's cutoff (plus the grace), and
 * the checkpoint must keep the minimum retention and not lie in the future.
 */
export function checkAnchors(
  anchors: readonly PostedAnchor[],
  hashAt: (eventId: number) => string | undefined,
  pruned: PruneCheckpoint | undefined,
  now: Date = new Date(),
): AnchorCheck[] {
  const plausible = pruned
    ? pruned.at.getTime() <= now.getTime() + 300_000 && pruned.cutoff.getTime() <= pruned.at.getTime() - MIN_RETENTION_MS + 300_000
    : true;
  return anchors.map((anchor): AnchorCheck => {
    if (pruned && anchor.eventId <= pruned.upTo) {
      const postedMs = Number(anchor.ts) * 1000;
      if (!plausible || postedMs > pruned.cutoff.getTime() + ANCHOR_AGE_GRACE_MS) return { kind: 'inconsistent', anchor };
      if (anchor.eventId !== pruned.upTo) return { kind: 'pruned', anchor };
      return anchor.hash === pruned.hash ? { kind: 'match', anchor } : { kind: 'mismatch', anchor, actual: pruned.hash };
    }
    const actual = hashAt(anchor.eventId);
    if (actual === undefined) return { kind: 'missing', anchor };
    return actual === anchor.hash ? { kind: 'match', anchor } : { kind: 'mismatch', anchor, actual };
  });
}
