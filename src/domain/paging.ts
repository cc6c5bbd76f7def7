/**
 * Who to page, given who is scheduled and whether they can act now.
 * Pure: presence and Do Not Disturb come in from Slack (cached by the adapter).
 */
export interface Availability {
  presence: 'active' | 'away' | 'unknown';
  dnd: boolean;
}

export interface PageDecision {
  /** The person paged, or undefined to fall back to the route's channel and user group. */
  user: string | undefined;
  /** One line per candidate considered, for the record and the card. */
  considered: Array<{ user: string; availability: Availability; paged: boolean; why: string }>;
  fallback: boolean;
}

/** Unavailable: in Do Not Disturb, or away. Unknown presence counts as available (fail towards paging). */
export function isAvailable(a: Availability): boolean {
  return !a.dnd && a.presence !== 'away';
}

/**
 * Walks the candidates in order (primary, then the next layer or the
 * secondary) and pages the first available one. Critical escalations page
 * the first candidate even if unavailable when nobody is: someone must know.
 */
export function choosePagee(candidates: readonly string[], availability: ReadonlyMap<string, Availability>, opts: { critical: boolean }): PageDecision {
  const considered: PageDecision['considered'] = [];
  const seen = new Set<string>();
  for (const user of candidates) {
    if (seen.has(user)) continue;
    seen.add(user);
    const a = availability.get(user) ?? { presence: 'unknown', dnd: false };
    if (isAvailable(a)) {
      considered.push({ user, availability: a, paged: true, why: a.presence === 'unknown' ? 'presence unknown: paged' : 'available' });
      return { user, considered, fallback: false };
    }
    considered.push({ user, availability: a, paged: false, why: a.dnd ? 'in Do Not Disturb' : 'away' });
  }
  const first = considered[0];
  if (opts.critical && first) {
    first.paged = true;
    first.why += '; paged anyway: critical and nobody available';
    return { user: first.user, considered, fallback: false };
  }
  return { user: undefined, considered, fallback: true };
}
