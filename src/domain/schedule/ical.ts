import ICAL from 'ical.js';
import { DateTime } from 'luxon';
import type { Override } from './schema.js';

const SLACK_ID = /\b([UW][A-Z0-9]{8,})\b/;

/**
 * On-call shifts from an iCal feed (an exported rota), as overrides. The
 * person is the first Slack user id found in the event's attendees, summary
 * or description. Recurring events are expanded up to `until`.
 */
export function overridesFromIcal(text: string, opts: { from: Date; until: Date; maxEvents?: number }): { overrides: Override[]; skipped: string[] } {
  const comp = new ICAL.Component(ICAL.parse(text));
  const overrides: Override[] = [];
  const skipped: string[] = [];
  const max = opts.maxEvents ?? 10_000;
  for (const ve of comp.getAllSubcomponents('vevent')) {
    const event = new ICAL.Event(ve);
    const haystack = [
      ...ve.getAllProperties('attendee').map((p) => String(p.getFirstValue())),
      event.summary ?? '',
      event.description ?? '',
    ].join(' ');
    const user = SLACK_ID.exec(haystack)?.[1];
    if (!user) {
      skipped.push(event.uid || event.summary || '(event without uid)');
      continue;
    }
    const durationMs = event.duration.toSeconds() * 1000;
    // A TZID without its VTIMEZONE (common in exports): read the wall time in that IANA zone.
    const tzid = ve.getFirstProperty('dtstart')?.getParameter('tzid');
    const toDate = (t: ICAL.Time): Date =>
      typeof tzid === 'string' && !comp.getFirstSubcomponent('vtimezone')
        ? DateTime.fromObject({ year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second }, { zone: tzid }).toJSDate()
        : t.toJSDate();
    const push = (start: Date) => {
      const end = new Date(start.getTime() + durationMs);
      if (end > opts.from && start < opts.until) overrides.push({ user, from: start.toISOString(), to: end.toISOString(), reason: `iCal: ${event.summary ?? event.uid}` });
    };
    if (!event.isRecurring()) {
      push(toDate(event.startDate));
      continue;
    }
    const it = event.iterator();
    for (let next = it.next(), n = 0; next && n < max; next = it.next(), n++) {
      const start = toDate(next);
      if (start >= opts.until) break;
      push(start);
    }
  }
  return { overrides, skipped };
}
