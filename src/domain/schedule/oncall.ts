import { DateTime } from 'luxon';
import type { Layer, Override, Rotation, Schedule } from './schema.js';

export interface Shift {
  user: string;
  /** Which layer or override put them there. */
  source: { kind: 'rotation'; layer: string } | { kind: 'override'; covers: string | null };
  from: Date;
  to: Date;
}

const MAX_STEPS = 10_000;

function anchorOf(r: Rotation): DateTime {
  const [h, m] = r.handoff.split(':').map(Number) as [number, number];
  let a = DateTime.fromISO(r.start, { zone: r.timezone }).set({ hour: h, minute: m, second: 0, millisecond: 0 });
  if (r.kind === 'weekly') while (a.weekday !== r.handoffWeekday) a = a.plus({ days: 1 });
  return a;
}

/** Shift k's start: calendar days for daily and weekly (a DST day is 23 or 25 h), elapsed hours for custom. */
function shiftStart(r: Rotation, anchor: DateTime, k: number): DateTime {
  if (r.kind === 'daily') return anchor.plus({ days: k });
  if (r.kind === 'weekly') return anchor.plus({ weeks: k });
  return anchor.plus({ milliseconds: k * r.intervalHours! * 3_600_000 });
}

/** The rotation's shift covering `t` (before the first shift, there is none). */
export function rotationShift(r: Rotation, t: Date): { user: string; from: DateTime; to: DateTime } | undefined {
  const anchor = anchorOf(r);
  const at = DateTime.fromJSDate(t, { zone: r.timezone });
  if (at < anchor) return undefined;
  const unit = r.kind === 'daily' ? 'days' : r.kind === 'weekly' ? 'weeks' : 'hours';
  const span = r.kind === 'custom' ? r.intervalHours! : 1;
  let k = Math.floor(at.diff(anchor, unit).get(unit) / span);
  // Calendar diffs can land one off around DST: settle on the shift that really covers t.
  while (k > 0 && shiftStart(r, anchor, k) > at) k--;
  while (shiftStart(r, anchor, k + 1) <= at) k++;
  const user = r.users[((k % r.users.length) + r.users.length) % r.users.length]!;
  return { user, from: shiftStart(r, anchor, k), to: shiftStart(r, anchor, k + 1) };
}

/** Is the layer active at t, and until when does that answer hold? */
function activeWindow(layer: Layer, t: Date): { active: boolean; until: DateTime } {
  const at = DateTime.fromJSDate(t, { zone: layer.rotation.timezone });
  const ah = layer.activeHours;
  if (!ah) return { active: true, until: at.plus({ years: 100 }) };
  const at0 = (d: DateTime, hhmm: string) => {
    const [h, m] = hhmm.split(':').map(Number) as [number, number];
    return d.set({ hour: h, minute: m, second: 0, millisecond: 0 });
  };
  const from = at0(at, ah.from);
  const to = at0(at, ah.to);
  const today = ah.days.includes(at.weekday);
  if (today && at >= from && at < to) return { active: true, until: to };
  // Not active: the next instant it may become active is the next `from` (today or a later day).
  let next = at < from ? from : at0(at.plus({ days: 1 }).startOf('day'), ah.from);
  while (!ah.days.includes(next.weekday)) next = at0(next.plus({ days: 1 }).startOf('day'), ah.from);
  return { active: false, until: next };
}

/** Where overrides overlap, the one that started last (the more specific) wins. */
function overrideAt(overrides: readonly Override[], t: Date, user: string | undefined): Override | undefined {
  const ms = t.getTime();
  return overrides
    .filter((o) => Date.parse(o.from) <= ms && ms < Date.parse(o.to) && (!o.covers || o.covers === user))
    .reduce<Override | undefined>((best, o) => (!best || Date.parse(o.from) >= Date.parse(best.from) ? o : best), undefined);
}

/**
 * Who is on call at `t`: the highest-priority active layer's rotation, then
 * overrides on top. Undefined means a gap: nobody is scheduled.
 */
export function onCallAt(s: Schedule, t: Date): Shift | undefined {
  const layers = [...s.layers].sort((a, b) => b.priority - a.priority);
  let base: Shift | undefined;
  let until: DateTime = DateTime.fromJSDate(t).plus({ years: 100 });
  for (const layer of layers) {
    const w = activeWindow(layer, t);
    if (w.until < until) until = w.until;
    if (!w.active) continue;
    const shift = rotationShift(layer.rotation, t);
    if (!shift) continue;
    const to = shift.to < w.until ? shift.to : w.until;
    base = { user: shift.user, source: { kind: 'rotation', layer: layer.name }, from: shift.from.toJSDate(), to: (to < until ? to : until).toJSDate() };
    break;
  }
  const o = overrideAt(s.overrides, t, base?.user);
  if (o) return { user: o.user, source: { kind: 'override', covers: o.covers ?? base?.user ?? null }, from: new Date(o.from), to: new Date(Math.min(Date.parse(o.to), base?.to.getTime() ?? Infinity)) };
  return base;
}

/** The instants after t where the answer may change: shift ends, layer hours, override edges. */
export function nextBoundary(s: Schedule, t: Date): Date {
  const ms = t.getTime();
  const candidates: number[] = [];
  for (const layer of s.layers) {
    const shift = rotationShift(layer.rotation, t);
    candidates.push(shift ? shift.to.toMillis() : anchorOf(layer.rotation).toMillis());
    candidates.push(activeWindow(layer, t).until.toMillis());
  }
  for (const o of s.overrides) for (const edge of [Date.parse(o.from), Date.parse(o.to)]) candidates.push(edge);
  return new Date(Math.min(...candidates.filter((c) => c > ms)));
}

/** How far `nowAndNext` walks shifts of the same person looking for a change (ms): a one-person rotation never changes. */
const NEXT_HORIZON_MS = 35 * 24 * 3_600_000;

/**
 * Who is on call now and who is next (the next different person, or a gap),
 * from `t`. A change any distance away is found when it is the next
 * boundary; past `horizonMs` of the same person, next is undefined.
 */
export function nowAndNext(s: Schedule, t: Date, horizonMs = NEXT_HORIZON_MS): { now: Shift | undefined; next: { at: Date; shift: Shift | undefined } | undefined } {
  const now = onCallAt(s, t);
  const end = t.getTime() + horizonMs;
  let at = t;
  for (let i = 0; i < MAX_STEPS; i++) {
    const b = nextBoundary(s, at);
    if (!Number.isFinite(b.getTime())) return { now, next: undefined };
    const shift = onCallAt(s, b);
    if (shift?.user !== now?.user) return { now, next: { at: b, shift } };
    if (b.getTime() > end) return { now, next: undefined };
    at = b;
  }
  return { now, next: undefined };
}

/** One person who could be paged at an instant, and why they are on the list. */
export interface Candidate extends Shift {
  schedule: string;
}

/**
 * Everyone who could be paged at `t`, in paging order: the first schedule's
 * on-call person (overrides applied), then the people its lower layers have
 * on call, then the same for each further schedule. Each person once. The
 * first is the primary, the next one the secondary.
 */
export function pagingOrderAt(schedules: readonly Schedule[], t: Date): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (schedule: string, shift: Shift | undefined) => {
    if (!shift || seen.has(shift.user)) return;
    seen.add(shift.user);
    out.push({ ...shift, schedule });
  };
  for (const s of schedules) {
    add(s.name, onCallAt(s, t));
    for (const layer of [...s.layers].sort((a, b) => b.priority - a.priority)) {
      add(s.name, onCallAt({ name: s.name, layers: [layer], overrides: [] }, t));
    }
  }
  return out;
}
