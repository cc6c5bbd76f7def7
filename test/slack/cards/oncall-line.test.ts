import { describe, expect, it } from 'vitest';
import { oncallLine } from '../../../src/slack/cards/escalation-card.js';
import type { CardOncall } from '../../../src/slack/cards/view-model.js';

const base: CardOncall = { route: 'payments', scheduled: true, skipped: [], approvers: ['U0APPROVER1', 'U0APPROVER2'] };

describe('the on-call line of a card', () => {
  it.each<[string, Partial<CardOncall>, string]>([
    ['mentions the on-call person', { userId: 'U0PRIMARY01' }, ':pager: On call for route `payments`: <@U0PRIMARY01>'],
    ['says who was passed over and why', { userId: 'U0NIGHTLY02', skipped: [{ user: 'U0PRIMARY01', why: 'away' }] }, ':pager: On call for route `payments`: <@U0NIGHTLY02> (<@U0PRIMARY01> is away)'],
    ['asks the user group in a gap, and says so', { usergroup: 'S0PAYOPS01' }, ':warning: Nobody is on call for route `payments`: asking <!subteam^S0PAYOPS01>'],
    ['asks the approvers in a gap when the route has no group', {}, ':warning: Nobody is on call for route `payments`: asking <@U0APPROVER1> <@U0APPROVER2>'],
    [
      'names the unavailable people when nobody can be paged',
      { usergroup: 'S0PAYOPS01', skipped: [{ user: 'U0PRIMARY01', why: 'in Do Not Disturb' }] },
      ':warning: Nobody is on call for route `payments` (<@U0PRIMARY01> is in Do Not Disturb): asking <!subteam^S0PAYOPS01>',
    ],
    ['pings only the group of a route without schedules', { scheduled: false, usergroup: 'S0PAYOPS01' }, ':busts_in_silhouette: No on-call schedule for route `payments`: asking <!subteam^S0PAYOPS01>'],
    ['pings nobody for a route without schedules or group', { scheduled: false }, ':busts_in_silhouette: No on-call schedule for route `payments`: any approver of the route may decide'],
    ['never turns a malformed id into a mention', { userId: 'U1> <!channel', usergroup: 'S1> <!here' }, ':pager: On call for route `payments`: (unknown user)'],
  ])('%s', (_name, over, line) => {
    expect(oncallLine({ ...base, ...over })).toBe(line);
  });
});
