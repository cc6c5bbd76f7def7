import { describe, expect, it } from 'vitest';
import { overridesFromIcal } from '../../../src/domain/schedule/ical.js';
import { onCallAt } from '../../../src/domain/schedule/oncall.js';
import { scheduleSchema } from '../../../src/domain/schedule/schema.js';

const FEED = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//test//rota//EN',
  'BEGIN:VEVENT',
  'UID:one@rota',
  'SUMMARY:On call U0ALICE0001',
  'DTSTART:20260110T090000Z',
  'DTEND:20260110T170000Z',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:weekly@rota',
  'SUMMARY:Weekend cover',
  'ATTENDEE;CN=Bob:mailto:U0BOBBOB002@example.com',
  'DTSTART;TZID=Europe/Berlin:20260103T080000',
  'DTEND;TZID=Europe/Berlin:20260103T200000',
  'RRULE:FREQ=WEEKLY;COUNT=4',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:nobody@rota',
  'SUMMARY:Team lunch',
  'DTSTART:20260105T120000Z',
  'DTEND:20260105T130000Z',
  'END:VEVENT',
  'END:VCALENDAR',
].join('\r\n');

describe('iCal import', () => {
  const { overrides, skipped } = overridesFromIcal(FEED, { from: new Date('2026-01-01T00:00:00Z'), until: new Date('2026-02-01T00:00:00Z') });

  it('turns each event naming a Slack user into an override, expanding recurrences', () => {
    expect(overrides.filter((o) => o.user === 'U0ALICE0001')).toEqual([
      { user: 'U0ALICE0001', from: '2026-01-10T09:00:00.000Z', to: '2026-01-10T17:00:00.000Z', reason: 'iCal: On call U0ALICE0001' },
    ]);
    expect(overrides.filter((o) => o.user === 'U0BOBBOB002').map((o) => o.from)).toEqual([
      '2026-01-03T07:00:00.000Z',
      '2026-01-10T07:00:00.000Z',
      '2026-01-17T07:00:00.000Z',
      '2026-01-24T07:00:00.000Z',
    ]);
  });

  it('skips events that name nobody, and says which', () => {
    expect(skipped).toEqual(['nobody@rota']);
  });

  it('puts the imported people on call', () => {
    const s = scheduleSchema.parse({
      name: 'imported',
      layers: [{ name: 'base', rotation: { users: ['U0BASE00001'], kind: 'daily', timezone: 'UTC', start: '2026-01-01' } }],
      overrides,
    });
    expect(onCallAt(s, new Date('2026-01-10T08:00:00Z'))?.user).toBe('U0BOBBOB002');
    // Overlapping overrides: the one that started last wins.
    expect(onCallAt(s, new Date('2026-01-10T12:00:00Z'))?.user).toBe('U0ALICE0001');
    expect(onCallAt(s, new Date('2026-01-10T18:00:00Z'))?.user).toBe('U0BOBBOB002');
    expect(onCallAt(s, new Date('2026-01-10T20:00:00Z'))?.user).toBe('U0BASE00001');
  });
});
