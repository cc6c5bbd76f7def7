import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { routeByName, selectRoute } from '../../src/domain/routing.js';

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
