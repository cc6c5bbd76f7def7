import { z } from 'zod';
import { slackUserId } from '../escalation.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm, 24-hour');
const zone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone like America/New_York');

/**
 * A rotation hands over at `handoff` local time, in its own zone:
 * `daily` every day, `weekly` every `handoffWeekday` (1 = Monday), `custom`
 * every `intervalHours` of elapsed time. `start` anchors who is first.
 */
export const rotationSchema = z
  .object({
    users: z.array(slackUserId).min(1).describe('Who takes turns, in order.'),
    kind: z.enum(['daily', 'weekly', 'custom']).describe('`daily` hands over every day, `weekly` every `handoffWeekday`, `custom` every `intervalHours` of elapsed time.'),
    handoff: hhmm.default('09:00').describe('Local time of the handoff (HH:mm, 24-hour); it stays there across daylight-saving changes.'),
    handoffWeekday: z.number().int().min(1).max(7).default(1).describe('Weekly rotations: the handoff day (1 = Monday).'),
    intervalHours: z.number().positive().max(24 * 365).optional().describe('Custom rotations: hours per shift (required for them).'),
    timezone: zone.describe('IANA zone of the rotation.'),
    start: z.iso.date().describe('Date (YYYY-MM-DD) of the first shift; the first user starts then.'),
  })
  .strict()
  .refine((r) => r.kind !== 'custom' || r.intervalHours !== undefined, { message: 'custom rotations need intervalHours', path: ['intervalHours'] });

/** A layer may only be active on some weekdays and hours (its rotation's zone). */
export const activeHoursSchema = z
  .object({
    days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5, 6, 7]).describe('Weekdays (1 = Monday).'),
    from: hhmm.describe('Local start (HH:mm), in the rotation\'s zone.'),
    to: hhmm.describe('Local end (HH:mm).'),
  })
  .strict();

export const layerSchema = z
  .object({
    name: z.string().min(1).max(100),
    priority: z.number().int().default(0).describe('Where layers overlap, the highest priority active at that instant wins.'),
    rotation: rotationSchema,
    activeHours: activeHoursSchema.optional().describe('Absent: always active.'),
  })
  .strict();

export const overrideSchema = z
  .object({
    user: slackUserId.describe('Who is on call instead.'),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }).describe('After `from`.'),
    covers: slackUserId.optional().describe('Only in this person\'s place; unset replaces whoever is on call, and fills a gap.'),
    reason: z.string().max(300).optional(),
  })
  .strict()
  .refine((o) => Date.parse(o.from) < Date.parse(o.to), { message: 'must end after it starts', path: ['to'] });

export const scheduleSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
    layers: z.array(layerSchema).min(1).describe('Rotations; the highest priority active at an instant gives the on-call person, the lower layers the next ones.'),
    overrides: z.array(overrideSchema).default([]).describe('Someone on call for a while, instead of the rotation.'),
  })
  .strict();

export type Rotation = z.output<typeof rotationSchema>;
export type Layer = z.output<typeof layerSchema>;
export type Override = z.output<typeof overrideSchema>;
export type Schedule = z.output<typeof scheduleSchema>;
