import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/domain/config.js';
import { previousMonth, proposeThresholdChanges, reportInstantFor, type ProposalInput } from '../../src/domain/governance-report.js';

const base: ProposalInput = {
  agentId: 'a', actions: 100, errors: 0, byTrigger: {}, byRule: {}, peakDayMicros: 0, p90Sec: null, confidenceThreshold: 0.7, deadlineMinutes: 60,
};
const routes = [{ name: 'default', channel: 'C0GENERAL1', approvers: { users: ['U0APPROVER1'] } }];

describe('proposed threshold changes', () => {
  it('proposes tightening at a 5% error rate over at least 20 actions, and not below either bar', () => {
    expect(proposeThresholdChanges({ ...base, actions: 20, errors: 1 })[0]).toContain('Tighten: error rate 5% (1 error in 20 actions)');
    expect(proposeThresholdChanges({ ...base, actions: 19, errors: 1 })).toEqual([]);
    expect(proposeThresholdChanges({ ...base, actions: 21, errors: 1 })).toEqual([]);
  });

  it('proposes a lower confidence threshold when people approve 95% of low-confidence escalations', () => {
    expect(proposeThresholdChanges({ ...base, byTrigger: { low_confidence: { count: 20, approved: 19 } } })).toEqual([
      'Loosen: people approved 19 of 20 low-confidence escalations (95%); consider confidenceThreshold 0.65 (now 0.70).',
    ]);
    expect(proposeThresholdChanges({ ...base, byTrigger: { low_confidence: { count: 20, approved: 18 } } })).toEqual([]);
  });

  it('proposes reviewing a restricted rule people nearly always approve, and daily caps far from the peak day', () => {
    const out = proposeThresholdChanges({ ...base, byRule: { r1: { count: 50, approved: 49 } }, peakDayMicros: 50_000_000, dailyCapUsd: 500 });
    expect(out[0]).toContain('Review rule `r1`: people approved 49 of 50 (98%)');
    expect(out[1]).toBe('Budget: the peak day spent $50.00, 10% of the $500.00 daily cap; consider dailyUsd $100.00 (twice the peak).');
  });

  it('flags decisions slower than half the deadline at p90', () => {
    expect(proposeThresholdChanges({ ...base, p90Sec: 31 * 60 })[0]).toContain('p90 time to decision 31 min is past half the 60-minute deadline');
    expect(proposeThresholdChanges({ ...base, p90Sec: 30 * 60 })).toEqual([]);
  });

  it("reports the calendar month before the run, in the report's time zone", () => {
    const m = previousMonth(new Date('2026-11-01T08:00:00Z'), 'Europe/Berlin');
    expect(m).toEqual({ from: new Date('2026-09-30T22:00:00Z'), to: new Date('2026-10-31T23:00:00Z'), label: '2026-10' });
  });
});

describe('governance config', () => {
  it('fills the defaults: 5% weekly on Monday 09:00 UTC, the report at 09:00 on the 1st', () => {
    const cfg = configSchema.parse({ routes, reviews: { weekly: [{ channel: 'C0TEAM0001' }] }, reports: { monthly: { channel: 'C0GOVERN01' } } });
    expect(cfg.reviews?.weekly[0]).toEqual({ channel: 'C0TEAM0001', agents: 'all', percent: 5, days: 7, cron: '0 9 * * MON', tz: 'UTC' });
    expect(cfg.reports?.monthly).toEqual({ channel: 'C0GOVERN01', cron: '0 9 1 * *', tz: 'UTC' });
  });

  it('names the field of a bad cron, time zone, percent or duplicate channel', () => {
    const r = configSchema.safeParse({
      routes,
      reviews: { weekly: [{ channel: 'C0TEAM0001', cron: 'every monday', tz: 'Mars/Olympus', percent: 0 }, { channel: 'C0TEAM0001' }] },
    });
    expect(r.success).toBe(false);
    const issues = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toContain('reviews.weekly.0.cron: must be a cron pattern like "0 9 * * MON"');
    expect(issues).toContain('reviews.weekly.0.tz: must be an IANA time zone like Europe/Berlin');
    expect(issues.some((i) => i.startsWith('reviews.weekly.0.percent'))).toBe(true);
    const dup = configSchema.safeParse({ routes, reviews: { weekly: [{ channel: 'C0TEAM0001' }, { channel: 'C0TEAM0001' }] } });
    expect(dup.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['reviews.weekly.1.channel: duplicates weekly[0].channel: one weekly sample per channel']);
  });

  it('names the instant whose previous month is the one asked for, across a year end, and refuses what is not a month', () => {
    const at = reportInstantFor('2026-12', 'America/New_York')!;
    expect(at).toEqual(new Date('2027-01-01T05:00:00Z'));
    expect(previousMonth(at, 'America/New_York').label).toBe('2026-12');
    for (const bad of ['2026-13', '2026-00', 'October', '2026-1', ' 2026-10']) expect(reportInstantFor(bad, 'UTC')).toBeUndefined();
  });
});
