import { DateTime } from 'luxon';
import { parseUserRef } from './user-ref.js';

/**
 * Out-of-office delegation (`/countersign delegate @x until 2026-12-24`):
 * while it runs, pages to the delegator go to the delegate, and the delegate
 * may decide what the delegator could (src/domain/authz.ts). Pure: the caller
 * passes `now` and the policy's time zone.
 */

/** A delegation as stored; `endsAt` is exclusive. */
export interface Delegation {
  id: string;
  delegator: string;
  delegate: string;
  startsAt: Date;
  endsAt: Date;
  revokedAt: Date | null;
}

/** In force at `now`: started, not yet ended, not revoked. */
export function isActive(d: Pick<Delegation, 'startsAt' | 'endsAt' | 'revokedAt'>, now: Date): boolean {
  const t = now.getTime();
  return d.revokedAt === null && d.startsAt.getTime() <= t && t < d.endsAt.getTime();
}

/** Who `userId` stands in for at `now`: the delegators of the delegations to them in force. Never themselves. */
export function delegatorsOf(delegations: readonly Delegation[], userId: string, now: Date): string[] {
  const out = new Set<string>();
  for (const d of delegations) if (d.delegate === userId && d.delegator !== userId && isActive(d, now)) out.add(d.delegator);
  return [...out];
}

/** Whom a page to `userId` reaches at `now`: their delegate while one is in force (the latest set wins), else themselves. */
export function pageeFor(delegations: readonly Delegation[], userId: string, now: Date): { user: string; onBehalfOf?: string } {
  const active = delegations.filter((d) => d.delegator === userId && isActive(d, now)).sort((a, b) => b.startsAt.getTime() - a.startsAt.getTime());
  const d = active[0];
  return d && d.delegate !== userId ? { user: d.delegate, onBehalfOf: userId } : { user: userId };
}

export const DELEGATE_USAGE = 'Usage: `/countersign delegate @user until YYYY-MM-DD`, `/countersign delegate off`, or `/countersign delegate` to list';

/** What `/countersign delegate …` asks for; `error` names the field it is about. */
export type DelegateCommand =
  | { kind: 'list' }
  | { kind: 'off' }
  | { kind: 'set'; delegate: string; startsAt: Date; endsAt: Date; until: string }
  | { kind: 'error'; field: 'user' | 'until'; message: string };

export interface DelegateLimits {
  now: Date;
  /** IANA zone the date is read in: the policy's `timezone`. */
  timezone: string;
  /** The latest end allowed, in days from now. */
  maxDays: number;
}

/**
 * Parses the words after `delegate`. `until 2026-12-24` means through that
 * whole day in the policy's time zone: the delegation ends at the next
 * midnight there. It starts now. Errors name the field: `user` (the
 * mention; nobody delegates to themselves) or `until` (a date, today or
 * later, at most `maxDays` ahead).
 */
export function parseDelegateCommand(args: readonly string[], caller: string, limits: DelegateLimits): DelegateCommand {
  const [first, ...rest] = args;
  if (first === undefined || (args.length === 1 && first.toLowerCase() === 'list')) return { kind: 'list' };
  if (args.length === 1 && ['off', 'end', 'stop', 'none'].includes(first.toLowerCase())) return { kind: 'off' };
  const delegate = parseUserRef(first);
  if (!delegate) return { kind: 'error', field: 'user', message: 'Mention the person who stands in for you (pick them after @ so that Slack sends their id), or type their user id, like @U0123ABCD.' };
  if (delegate === caller) return { kind: 'error', field: 'user', message: 'You cannot delegate to yourself.' };
  const [keyword, date, ...extra] = rest;
  if (keyword?.toLowerCase() !== 'until' || date === undefined) return { kind: 'error', field: 'until', message: 'Say until when, like `until 2026-12-24`.' };
  if (extra.length > 0) return { kind: 'error', field: 'until', message: `${extra[0]!.slice(0, 40).replace(/`/g, "'")} is one word too many.` };
  const endsAt = endOfDay(date, limits.timezone);
  if (!endsAt) return { kind: 'error', field: 'until', message: `\`${date.slice(0, 40).replace(/`/g, "'")}\` is not a date like 2026-12-24.` };
  const now = limits.now.getTime();
  if (endsAt.getTime() <= now) return { kind: 'error', field: 'until', message: `${date} is in the past (dates are read in ${limits.timezone}).` };
  if (endsAt.getTime() - now > limits.maxDays * 86_400_000) return { kind: 'error', field: 'until', message: `A delegation lasts at most ${limits.maxDays} days; ${date} is further away.` };
  return { kind: 'set', delegate, startsAt: limits.now, endsAt, until: date };
}

/** The instant a `YYYY-MM-DD` day ends in `zone` (the next day's midnight there), or undefined for anything else. */
export function endOfDay(date: string, zone: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const day = DateTime.fromISO(date, { zone });
  if (!day.isValid) return undefined;
  return day.plus({ days: 1 }).startOf('day').toJSDate();
}
