/**
 * Anchors: the chain head, posted to Slack now and then. Slack keeps its own
 * copy of each message, out of reach of anyone who controls the database, so
 * a superuser who rewrites events and recomputes every later link is caught
 * when `countersign audit verify --anchors` compares the anchored hashes with
 * the recomputed chain.
 */

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
  return `:anchor: Audit chain head: event ${a.eventId}, ${a.count.toLocaleString('en-US')} sealed records. \`${anchorLine(a)}\``;
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
  | { kind: 'mismatch'; anchor: PostedAnchor; actual: string }
  /** The chain no longer reaches the anchored event: links were removed from its end. */
  | { kind: 'missing'; anchor: PostedAnchor };

/**
 * Checks anchors against link hashes recomputed from the events.
 * `hashAt` gives the recomputed hash of an event id, or undefined when the
 * chain has no such link; `prunedUpTo`/`checkpointHash` describe the last prune.
 */
export function checkAnchors(
  anchors: readonly PostedAnchor[],
  hashAt: (eventId: number) => string | undefined,
  pruned: { upTo: number; hash: string } | undefined,
): AnchorCheck[] {
  return anchors.map((anchor): AnchorCheck => {
    if (pruned && anchor.eventId <= pruned.upTo) {
      if (anchor.eventId !== pruned.upTo) return { kind: 'pruned', anchor };
      return anchor.hash === pruned.hash ? { kind: 'match', anchor } : { kind: 'mismatch', anchor, actual: pruned.hash };
    }
    const actual = hashAt(anchor.eventId);
    if (actual === undefined) return { kind: 'missing', anchor };
    return actual === anchor.hash ? { kind: 'match', anchor } : { kind: 'mismatch', anchor, actual };
  });
}
