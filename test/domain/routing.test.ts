import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { laneOf, routeByName, selectRoute, type RouteFacts } from '../../src/domain/routing.js';

const example = parseConfig(readFileSync(new URL('../../examples/countersign.yml', import.meta.url), 'utf8')).config;

/** Refunds first, a second route that also claims refund, and the default in the middle. */
const overlapping = parseConfig(`
routes:
  - name: refunds
    match: { issueTypes: [refund, billing_dispute] }
    channel: C0REFUNDS1
    approvers: { users: [U0APPROVER1] }
  - name: fallback
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER2] }
  - name: money
    match: { issueTypes: [refund, payout] }
    channel: C0MONEY01
    approvers: { usergroup: S0FINANCE1 }
`).config;

describe('selectRoute', () => {
  it('sends the example’s refund to the refunds route in C0REFUNDS1', () => {
    expect(selectRoute(example, 'refund')).toMatchObject({ name: 'refunds', channel: 'C0REFUNDS1' });
  });

  it('matches any of a route’s issue types', () => {
    expect(selectRoute(example, 'billing_dispute').name).toBe('refunds');
  });

  it('falls back to the default route for an issue type no route names', () => {
    expect(selectRoute(example, 'access')).toMatchObject({ name: 'default', channel: 'C0GENERAL1' });
  });

  it('lets the first matching route win when two claim the same issue type', () => {
    expect(selectRoute(overlapping, 'refund').name).toBe('refunds');
  });

  it('prefers a later matching route over an earlier default route', () => {
    expect(selectRoute(overlapping, 'payout').name).toBe('money');
  });

  it('compares issue types exactly (case and whitespace matter)', () => {
    expect(selectRoute(example, 'Refund').name).toBe('default');
    expect(selectRoute(example, 'refund ').name).toBe('default');
  });

  it('always answers a route of the config, and the default one only when nothing matches', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('refund', 'billing_dispute', 'payout', 'access'), fc.string()), (issueType) => {
        const route = selectRoute(overlapping, issueType);
        expect(overlapping.routes).toContain(route);
        const first = overlapping.routes.find((r) => r.match?.issueTypes?.includes(issueType));
        expect(route).toBe(first ?? overlapping.routes.find((r) => !r.match));
      }),
      { numRuns: 300 },
    );
  });
});

describe('routeByName', () => {
  it('finds a route by its name, and nothing for an unknown one', () => {
    expect(routeByName(example, 'default')?.channel).toBe('C0GENERAL1');
    expect(routeByName(example, 'nope')).toBeUndefined();
  });
});

describe('match rules over issue type, agent, action type, urgency and labels', () => {
  const rules = parseConfig(`
routes:
  - name: prod-payments
    match: { actionTypes: ["payments.*"], labels: { env: prod } }
    channel: C0PRODPAY1
    approvers: { users: [U0APPROVER1] }
  - name: urgent
    match: { urgency: [high, critical] }
    channel: C0URGENT01
    approvers: { users: [U0APPROVER1] }
  - name: support-bot
    match: { agents: ["support-*"], issueTypes: [refund, "billing.*"] }
    channel: C0SUPPORT1
    approvers: { users: [U0APPROVER1] }
  - name: critical-only
    match: { urgency: critical }
    channel: C0CRITICAL
    approvers: { users: [U0APPROVER1] }
  - name: deep
    match: { actionTypes: ["infra.**"] }
    channel: C0INFRA001
    approvers: { users: [U0APPROVER1] }
  - name: default
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }
`).config;

  const facts: RouteFacts = { issueType: 'refund', agentId: 'support-agent', actionType: 'payments.refund', urgency: 'normal', labels: { env: 'prod' } };
  it.each<[string, Partial<RouteFacts>, string]>([
    ['an action glob and a label together', {}, 'prod-payments'],
    ['every criterion of a rule must hold: the label differs', { labels: { env: 'staging' } }, 'support-bot'],
    ['a missing label does not match', { labels: {} }, 'support-bot'],
    ['the first match wins over a later one', { urgency: 'high', labels: {} }, 'urgent'],
    ['urgency as a list', { urgency: 'critical', labels: {} }, 'urgent'],
    ['`*` does not cross a dot', { actionType: 'payments.refund.partial', labels: { env: 'prod' }, agentId: 'ops' }, 'default'],
    ['`**` crosses dots', { actionType: 'infra.dns.update', agentId: 'ops', issueType: 'ops' }, 'deep'],
    ['an agent glob with an issue-type glob', { agentId: 'support-eu', issueType: 'billing.dispute', actionType: 'crm.read', labels: {} }, 'support-bot'],
    ['an agent glob that does not match', { agentId: 'sales-agent', actionType: 'crm.read', labels: {} }, 'default'],
    ['nothing matches: the default route', { issueType: 'access', agentId: 'it-agent', actionType: 'access.grant', labels: {} }, 'default'],
  ])('%s', (_name, over, route) => {
    expect(selectRoute(rules, { ...facts, ...over }).name).toBe(route);
  });

  it('still reads the original issue-type-only form, and a bare issue type', () => {
    expect(selectRoute(example, { issueType: 'refund', agentId: 'x', actionType: 'y.z' }).name).toBe('refunds');
    expect(selectRoute(rules, 'refund').name).toBe('default');
  });
});

describe('laneOf, the lane an escalation job waits in at intake', () => {
  const job = JSON.parse(readFileSync(new URL('../../examples/escalation.json', import.meta.url), 'utf8')) as Record<string, unknown>;

  it("is the channel of the route intake will choose, read from the job's raw data", () => {
    expect(laneOf(example, job)).toBe(`channel:${selectRoute(example, { issueType: String(job.issueType) }).channel}`);
    expect(laneOf(overlapping, { ...job, issueType: 'payout' })).toBe('channel:C0MONEY01');
    expect(laneOf(overlapping, { ...job, issueType: 'other' })).toBe('channel:C0GENERAL1');
  });

  it('is one shared lane for data too malformed to route, and never throws', () => {
    expect(laneOf(example, null)).toBe('');
    expect(laneOf(example, { issueType: 42 })).toBe('');
    fc.assert(fc.property(fc.anything(), (data) => typeof laneOf(overlapping, data) === 'string'));
  });
});
