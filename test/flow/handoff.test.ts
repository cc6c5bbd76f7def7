import { describe, expect, it } from 'vitest';
import { oncallOf } from '../../src/flow/handoff.js';

const POSTED_AT = new Date('2026-12-07T21:06:30.123Z');
const LATER = new Date('2026-12-07T21:06:30.456Z');
const route = { name: 'refunds', schedules: ['refunds-oncall'], approvers: { users: ['U0APPROVER1'] } };
const cardPosted = { type: 'card_posted' as const, actor: 'system', at: POSTED_AT, data: { channel: 'C0REFUNDS1', ts: '1.0001' } };
const paged = {
  type: 'paged' as const,
  actor: 'system',
  at: POSTED_AT,
  data: { user: 'U0ONCALLR1', scheduled: true, considered: [{ user: 'U0AWAY0001', paged: false, why: 'away' }, { user: 'U0ONCALLR1', paged: true, why: 'available' }] },
};
const snoozed = { type: 'snoozed' as const, actor: 'U0APPROVER1', at: LATER, data: { user: 'U0APPROVER1', until: '2026-12-07T21:36:30.456Z' } };

describe('the on-call line a waiting card is rebuilt with', () => {
  it('is the page recorded with the card, even when a hand-off drew an id between the two', () => {
    expect(oncallOf([cardPosted, snoozed, paged], route)).toEqual({
      route: 'refunds',
      approvers: ['U0APPROVER1'],
      userId: 'U0ONCALLR1',
      scheduled: true,
      skipped: [{ user: 'U0AWAY0001', why: 'away' }],
    });
  });

  it('ignores a later page (a chain step), which is not the card’s', () => {
    const chainPage = { ...paged, at: LATER, data: { ...paged.data, user: 'U0SECOND01' } };
    expect(oncallOf([cardPosted, snoozed, chainPage], route)).toBeUndefined();
  });

  it('is left out when a route with schedules had its card recorded without a page (the look-up failed)', () => {
    expect(oncallOf([cardPosted, snoozed], route)).toBeUndefined();
  });

  it('says there is no schedule for a route without schedules', () => {
    expect(oncallOf([cardPosted], { ...route, schedules: [] })).toEqual({ route: 'refunds', approvers: ['U0APPROVER1'], scheduled: false, skipped: [] });
  });
});
