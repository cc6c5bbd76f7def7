import { describe, expect, it } from 'vitest';
import { nowAndNext, onCallAt, pagingOrderAt, rotationShift } from '../../../src/domain/schedule/oncall.js';
import { scheduleSchema, type Schedule } from '../../../src/domain/schedule/schema.js';

const A = 'U0AAAAAAA1';
const B = 'U0BBBBBBB2';
const C = 'U0CCCCCCC3';

const daily = (timezone: string, start = '2026-01-05', handoff = '09:00') =>
  scheduleSchema.parse({ name: 'ops', layers: [{ name: 'primary', rotation: { users: [A, B], kind: 'daily', handoff, timezone, start } }] });
const who = (s: Schedule, iso: string) => onCallAt(s, new Date(iso))?.user;

// Shifts alternate A, B from 2026-01-05 09:00 local: an even day count since then is A's.
describe('daily rotations across daylight-saving changes', () => {
  it.each([
    // America/New_York springs forward on 2026-03-08 (EST -5 → EDT -4) and falls back on 2026-11-01.
    ['New York, the day before spring forward, 08:59 EST', 'America/New_York', '2026-03-07T13:59:00Z', A],
    ['New York, spring forward day, 09:00 EDT is 13:00Z', 'America/New_York', '2026-03-08T13:00:00Z', A],
    ['New York, spring forward day, 08:59 EDT is still the previous shift', 'America/New_York', '2026-03-08T12:59:00Z', B],
    ['New York, fall back day, 09:00 EST is 14:00Z', 'America/New_York', '2026-11-01T14:00:00Z', A],
    ['New York, fall back day, 09:59 EDT-equivalent 13:59Z is still the previous shift', 'America/New_York', '2026-11-01T13:59:00Z', B],
    // Europe/Berlin: 2026-03-29 (CET +1 → CEST +2) and 2026-10-25.
    ['Berlin, spring forward day, 09:00 CEST is 07:00Z', 'Europe/Berlin', '2026-03-29T07:00:00Z', B],
    ['Berlin, spring forward day, 06:59Z is 08:59 CEST, previous shift', 'Europe/Berlin', '2026-03-29T06:59:00Z', A],
    ['Berlin, fall back day, 09:00 CET is 08:00Z', 'Europe/Berlin', '2026-10-25T08:00:00Z', B],
    ['Berlin, fall back day, 07:59Z is 08:59 CET, previous shift', 'Europe/Berlin', '2026-10-25T07:59:00Z', A],
  ])('%s', (_name, tz, iso, user) => {
    expect(who(daily(tz), iso)).toBe(user);
  });

  it('keeps every shift at 09:00 local: 23 hours long on spring-forward day, 25 on fall-back day', () => {
    const s = daily('America/New_York');
    const spring = rotationShift(s.layers[0]!.rotation, new Date('2026-03-08T12:00:00Z'))!;
    expect(spring.to.diff(spring.from, 'hours').hours).toBe(23);
    const fall = rotationShift(s.layers[0]!.rotation, new Date('2026-10-31T14:00:00Z'))!;
    expect(fall.to.diff(fall.from, 'hours').hours).toBe(25);
  });

  it('moves a handoff that falls in the spring-forward gap (02:30 does not exist) to 03:30 local', () => {
    const r = rotationShift(daily('America/New_York', '2026-01-05', '02:30').layers[0]!.rotation, new Date('2026-03-08T12:00:00Z'))!;
    expect(r.from.toUTC().toISO()).toBe('2026-03-08T07:30:00.000Z');
  });

  it('hands over at the boundary instant exactly: the new shift owns it', () => {
    const s = daily('UTC');
    expect(who(s, '2026-01-06T08:59:59.999Z')).toBe(A);
    expect(who(s, '2026-01-06T09:00:00.000Z')).toBe(B);
  });

  it('has nobody before its first shift', () => {
    expect(onCallAt(daily('UTC'), new Date('2026-01-05T08:00:00Z'))).toBeUndefined();
  });
});

describe('weekly and custom rotations', () => {
  it('hands a weekly rotation over on its weekday, at its hour', () => {
    const s = scheduleSchema.parse({ name: 'w', layers: [{ name: 'l', rotation: { users: [A, B, C], kind: 'weekly', handoffWeekday: 1, handoff: '10:00', timezone: 'Europe/Berlin', start: '2026-01-01' } }] });
    // The first Monday on or after 2026-01-01 is 2026-01-05.
    expect(who(s, '2026-01-05T09:00:00Z')).toBe(A); // 10:00 CET
    expect(who(s, '2026-01-12T08:59:00Z')).toBe(A);
    expect(who(s, '2026-01-12T09:00:00Z')).toBe(B);
    expect(who(s, '2026-01-19T09:00:00Z')).toBe(C);
    expect(who(s, '2026-01-26T09:00:00Z')).toBe(A);
  });

  it('counts a custom interval in elapsed hours, so it drifts against local time across DST', () => {
    const s = scheduleSchema.parse({ name: 'c', layers: [{ name: 'l', rotation: { users: [A, B], kind: 'custom', intervalHours: 12, handoff: '00:00', timezone: 'America/New_York', start: '2026-03-07' } }] });
    expect(who(s, '2026-03-07T05:00:00Z')).toBe(A); // 00:00 EST
    expect(who(s, '2026-03-07T17:00:00Z')).toBe(B);
    expect(who(s, '2026-03-08T05:00:00Z')).toBe(A); // 24 elapsed hours later, 01:00 EDT local
  });
});

describe('layers and overrides', () => {
  const layered = scheduleSchema.parse({
    name: 'layered',
    layers: [
      { name: 'night', priority: 0, rotation: { users: [C], kind: 'daily', timezone: 'UTC', start: '2026-01-01', handoff: '00:00' } },
      { name: 'business', priority: 10, rotation: { users: [A, B], kind: 'daily', timezone: 'UTC', start: '2026-01-05', handoff: '09:00' }, activeHours: { days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00' } },
    ],
    overrides: [
      { user: B, from: '2026-01-07T12:00:00Z', to: '2026-01-07T14:00:00Z', covers: A, reason: 'dentist' },
      { user: C, from: '2026-01-08T10:00:00Z', to: '2026-01-08T11:00:00Z' },
    ],
  });

  it.each([
    ['the higher layer wins inside its hours', '2026-01-05T10:00:00Z', A, 'business'],
    ['the lower layer covers outside them', '2026-01-05T18:00:00Z', C, 'night'],
    ['the lower layer covers weekends', '2026-01-10T10:00:00Z', C, 'night'],
  ])('%s', (_n, iso, user, layer) => {
    expect(onCallAt(layered, new Date(iso))).toMatchObject({ user, source: { kind: 'rotation', layer } });
  });

  it('an override covering a named person applies only while that person is on call', () => {
    // 2026-01-07 (Wednesday) is A's day: B covers A from 12:00 to 14:00.
    expect(onCallAt(layered, new Date('2026-01-07T12:30:00Z'))).toMatchObject({ user: B, source: { kind: 'override', covers: A } });
    expect(who(layered, '2026-01-07T14:00:00Z')).toBe(A);
  });

  it('an override without `covers` replaces whoever is on call', () => {
    expect(onCallAt(layered, new Date('2026-01-08T10:30:00Z'))).toMatchObject({ user: C, source: { kind: 'override', covers: B } });
  });

  it('says who is on call now and who is next', () => {
    const r = nowAndNext(layered, new Date('2026-01-05T16:00:00Z'));
    expect(r.now?.user).toBe(A);
    expect(r.next).toMatchObject({ at: new Date('2026-01-05T17:00:00Z'), shift: { user: C } });
  });

  it('reports a gap as nobody', () => {
    const gappy = scheduleSchema.parse({ name: 'g', layers: [{ name: 'b', rotation: { users: [A], kind: 'daily', timezone: 'UTC', start: '2026-01-05', handoff: '09:00' }, activeHours: { days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00' } }] });
    expect(onCallAt(gappy, new Date('2026-01-05T20:00:00Z'))).toBeUndefined();
    expect(nowAndNext(gappy, new Date('2026-01-05T16:00:00Z')).next).toMatchObject({ at: new Date('2026-01-05T17:00:00Z'), shift: undefined });
  });

  it('rejects a custom rotation without its interval, and a bad zone, at load', () => {
    expect(scheduleSchema.safeParse({ name: 'x', layers: [{ name: 'l', rotation: { users: [A], kind: 'custom', timezone: 'UTC', start: '2026-01-01' } }] }).success).toBe(false);
    expect(scheduleSchema.safeParse({ name: 'x', layers: [{ name: 'l', rotation: { users: [A], kind: 'daily', timezone: 'Mars/Olympus', start: '2026-01-01' } }] }).success).toBe(false);
  });
});

describe('weekly rotations across daylight-saving changes, and the next handoff', () => {
  const weekly = (timezone: string) =>
    scheduleSchema.parse({ name: 'w', layers: [{ name: 'l', rotation: { users: [A, B], kind: 'weekly', handoffWeekday: 1, handoff: '09:00', timezone, start: '2026-01-05' } }] });

  it.each([
    // The week holding a DST change is an hour shorter (spring) or longer (fall): the handoff stays at 09:00 local.
    ['New York, the week of spring forward is 167 hours', 'America/New_York', '2026-03-05T12:00:00Z', 167, '2026-03-09T13:00:00.000Z'],
    ['New York, the week of fall back is 169 hours', 'America/New_York', '2026-10-29T12:00:00Z', 169, '2026-11-02T14:00:00.000Z'],
    ['Berlin, the week of spring forward is 167 hours', 'Europe/Berlin', '2026-03-25T12:00:00Z', 167, '2026-03-30T07:00:00.000Z'],
    ['Berlin, the week of fall back is 169 hours', 'Europe/Berlin', '2026-10-21T12:00:00Z', 169, '2026-10-26T08:00:00.000Z'],
  ])('%s', (_name, tz, iso, hours, handoff) => {
    const shift = rotationShift(weekly(tz).layers[0]!.rotation, new Date(iso))!;
    expect(shift.to.diff(shift.from, 'hours').hours).toBe(hours);
    expect(shift.to.toUTC().toISO()).toBe(handoff);
    expect(nowAndNext(weekly(tz), new Date(iso)).next?.at.toISOString()).toBe(handoff);
  });
});

describe('boundary instants', () => {
  const layered = scheduleSchema.parse({
    name: 'b',
    layers: [
      { name: 'night', priority: 0, rotation: { users: [C], kind: 'daily', timezone: 'Europe/Berlin', start: '2026-01-01', handoff: '00:00' } },
      { name: 'day', priority: 5, rotation: { users: [A], kind: 'daily', timezone: 'Europe/Berlin', start: '2026-01-01' }, activeHours: { from: '09:00', to: '17:00' } },
    ],
    overrides: [{ user: B, from: '2026-03-29T10:00:00Z', to: '2026-03-29T12:00:00Z' }],
  });

  it.each([
    // 2026-03-29 is Berlin's spring-forward day: 09:00 CEST is 07:00Z, 17:00 CEST is 15:00Z.
    ['the last millisecond before the layer’s hours', '2026-03-29T06:59:59.999Z', C],
    ['the first instant of the layer’s hours (DST day)', '2026-03-29T07:00:00.000Z', A],
    ['an override owns its start instant', '2026-03-29T10:00:00.000Z', B],
    ['the last millisecond of an override', '2026-03-29T11:59:59.999Z', B],
    ['an override’s end instant belongs to the schedule again', '2026-03-29T12:00:00.000Z', A],
    ['the layer’s end instant belongs to the layer below', '2026-03-29T15:00:00.000Z', C],
  ])('%s', (_name, iso, user) => {
    expect(onCallAt(layered, new Date(iso))?.user).toBe(user);
  });

  it('names the next change at the boundary itself, not a minute after', () => {
    expect(nowAndNext(layered, new Date('2026-03-29T09:30:00Z')).next).toMatchObject({ at: new Date('2026-03-29T10:00:00Z'), shift: { user: B } });
    expect(nowAndNext(layered, new Date('2026-03-29T10:00:00Z')).next).toMatchObject({ at: new Date('2026-03-29T12:00:00Z'), shift: { user: A } });
  });
});

describe('paging order and the look-ahead', () => {
  const ops = scheduleSchema.parse({
    name: 'ops',
    layers: [
      { name: 'base', priority: 0, rotation: { users: [B], kind: 'daily', timezone: 'UTC', start: '2026-01-01', handoff: '00:00' } },
      { name: 'top', priority: 9, rotation: { users: [A], kind: 'daily', timezone: 'UTC', start: '2026-01-01', handoff: '00:00' } },
    ],
    overrides: [{ user: C, from: '2026-01-10T00:00:00Z', to: '2026-01-11T00:00:00Z', covers: A }],
  });
  const backup = scheduleSchema.parse({ name: 'backup', layers: [{ name: 'only', rotation: { users: [C, B], kind: 'daily', timezone: 'UTC', start: '2026-01-01', handoff: '00:00' } }] });

  it.each([
    ['primary from the top layer, then the layer below, then the next schedule', '2026-01-05T12:00:00Z', [A, B, C]],
    ['an override heads the list and the overridden person stays as a candidate; each person once', '2026-01-10T12:00:00Z', [C, A, B]],
  ])('%s', (_name, iso, users) => {
    expect(pagingOrderAt([ops, backup], new Date(iso)).map((c) => c.user)).toEqual(users);
  });

  it('gives up looking for a change after 35 days of the same person, but finds a distant one that is the next boundary', () => {
    const solo = scheduleSchema.parse({ name: 's', layers: [{ name: 'l', rotation: { users: [A], kind: 'daily', timezone: 'UTC', start: '2026-01-01' } }] });
    expect(nowAndNext(solo, new Date('2026-01-05T12:00:00Z'))).toMatchObject({ now: { user: A }, next: undefined });
    const later = scheduleSchema.parse({ name: 's', layers: [{ name: 'l', rotation: { users: [A], kind: 'daily', timezone: 'UTC', start: '2099-01-01' } }] });
    expect(nowAndNext(later, new Date('2026-01-05T12:00:00Z')).next).toMatchObject({ at: new Date('2099-01-01T09:00:00Z'), shift: { user: A } });
  });
});
