import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/file.js';
import { evaluatePolicy, actionSpendUsd, NO_POLICY, type PolicyRequest } from '../../../src/domain/policy/evaluate.js';
import { policySchema, type Policy } from '../../../src/domain/policy/schema.js';

const policy = parseConfig(readFileSync(new URL('../../../examples/countersign.yml', import.meta.url), 'utf8')).config.policy!;
const calm = { stepFailures: 0 };
const req = (over: Partial<PolicyRequest>): PolicyRequest => ({
  agentId: 'support-agent',
  actionType: 'crm.read',
  params: {},
  issueType: 'refund',
  confidence: 0.95,
  ...over,
});

describe('the example policy', () => {
  it.each([
    ['crm.read is autonomous', req({}), 'allow', 'autonomous', 'policy.agents[0].actions[0]'],
    ['tickets.create is supervised', req({ actionType: 'tickets.create' }), 'allow', 'supervised', 'policy.agents[0].actions[1]'],
    ['access.grant is always restricted', req({ actionType: 'access.grant', params: { role: 'viewer' } }), 'pending', 'restricted', 'policy.agents[0].actions[4]'],
    ['email to an internal domain runs on its own', req({ actionType: 'email.send', params: { to: 'ann@acme.example' } }), 'allow', 'autonomous', 'policy.agents[0].actions[2]'],
    ['email to a sub-domain is still internal', req({ actionType: 'email.send', params: { to: 'ann@eu.acme.example' } }), 'allow', 'autonomous', 'policy.agents[0].actions[2]'],
    ['email to an external domain is restricted', req({ actionType: 'email.send', params: { to: 'bob@other.example' } }), 'pending', 'restricted', 'policy.agents[0].actions[2].rules[0]'],
    ['one external address among internal ones is restricted', req({ actionType: 'email.send', params: { to: ['ann@acme.example', 'x@evil.example'] } }), 'pending', 'restricted', 'policy.agents[0].actions[2].rules[0]'],
    ['a $500 refund is supervised', req({ actionType: 'payments.refund', params: { amountUsd: 500 } }), 'allow', 'supervised', 'policy.agents[0].actions[3]'],
    ['a $500.01 refund is restricted', req({ actionType: 'payments.refund', params: { amountUsd: 500.01 } }), 'pending', 'restricted', 'policy.agents[0].actions[3].rules[0]'],
    ['a $6,000 refund is denied by an explicit deny rule', req({ actionType: 'payments.refund', params: { amountUsd: 6000 } }), 'deny', null, 'policy.agents[0].deny[1]'],
    ['data.delete is denied by a glob deny rule', req({ actionType: 'data.delete' }), 'deny', null, 'policy.agents[0].deny[0]'],
    ['data.delete_all is denied by the same glob', req({ actionType: 'data.delete_all' }), 'deny', null, 'policy.agents[0].deny[0]'],
    ['an unlisted action is denied', req({ actionType: 'shell.exec' }), 'deny', null, 'policy.agents[0].actions'],
    ['an unlisted agent is denied', req({ agentId: 'rogue-agent' }), 'deny', null, 'policy.agents'],
    ['a purchase within $250 runs on its own', req({ agentId: 'procurement-agent', actionType: 'purchases.create', issueType: 'procurement', params: { amountUsd: 250, vendor: 'acme' } }), 'allow', 'autonomous', 'policy.agents[1].actions[0]'],
    ['a purchase over $250 is restricted', req({ agentId: 'procurement-agent', actionType: 'purchases.create', issueType: 'procurement', params: { amountUsd: 251, vendor: 'acme' } }), 'pending', 'restricted', 'policy.agents[1].actions[0].rules[0]'],
    ['a purchase from an unvetted vendor is denied', req({ agentId: 'procurement-agent', actionType: 'purchases.create', issueType: 'procurement', params: { amountUsd: 10, vendor: 'unvetted' } }), 'deny', null, 'policy.agents[1].actions[0].rules[1]'],
  ] as const)('%s', (_name, request, outcome, tier, rule) => {
    const d = evaluatePolicy(policy, request, calm);
    expect(d).toMatchObject({ outcome, tier, rule });
  });
});

describe('escalation triggers', () => {
  it.each([
    ['low confidence', req({ confidence: 0.62 }), calm, 'low_confidence', 'confidence 0.62 is below 0.70'],
    ['an issue type outside the domain', req({ issueType: 'security' }), calm, 'out_of_domain', 'issue type security is outside support-agent\'s domain'],
    ['a high-stakes amount', req({ actionType: 'payments.refund', params: { amountUsd: 2500 } }), calm, 'high_stakes', 'high stakes: amountUsd > 2000'],
    ['conflicting information', req({ conflictingInformation: true }), calm, 'conflicting_information', 'the agent flagged conflicting information'],
    ['three failures of the same step', req({}), { stepFailures: 3 }, 'repeated_failure', 'this step already failed 3 times without success'],
    ['a task past its budget', req({}), { stepFailures: 0, taskBudget: { spentUsd: 5.4, capUsd: 5 } }, 'task_budget', 'task spend $5.40 is past its $5.00 cap'],
  ] as const)('%s sends even an autonomous action to a human', (_name, request, ctx, kind, message) => {
    const d = evaluatePolicy(policy, request, ctx);
    expect(d.outcome).toBe('pending');
    expect(d.triggers).toContainEqual({ kind, message });
  });

  it('does not trigger at exactly the confidence threshold, nor at two failures', () => {
    expect(evaluatePolicy(policy, req({ confidence: 0.7 }), { stepFailures: 2 })).toMatchObject({ outcome: 'allow', triggers: [] });
  });

  it('uses a per-action threshold before the agent and global ones', () => {
    const p = policySchema.parse({ agents: [{ id: 'a', confidenceThreshold: 0.5, actions: [{ action: 'x.y', tier: 'autonomous', confidenceThreshold: 0.9 }] }] });
    expect(evaluatePolicy(p, req({ agentId: 'a', actionType: 'x.y', confidence: 0.8 }), calm).triggers[0]?.message).toBe('confidence 0.80 is below 0.90');
  });

  it('with no policy section, every action waits for a person', () => {
    expect(evaluatePolicy(undefined, req({}), calm)).toBe(NO_POLICY);
  });
});

describe('quorum', () => {
  const quorumPolicy = policySchema.parse({
    agents: [
      {
        id: 'a',
        actions: [
          {
            action: 'payments.refund',
            tier: 'supervised',
            rules: [
              { when: { param: 'amountUsd', gt: 500 }, tier: 'restricted', reason: 'refund over $500' },
              { when: { param: 'amountUsd', gt: 5000 }, approvals: 2, reason: 'refund over $5,000' },
              { when: { param: 'amountUsd', gt: 20000 }, approvals: 2, distinctGroups: ['S0FINANCE', 'S0RISK'], reason: 'refund over $20,000' },
            ],
          },
          { action: 'payments.payout', tier: 'restricted', approvals: 3 },
        ],
      },
    ],
  });
  const refund = (amountUsd: number) => req({ agentId: 'a', actionType: 'payments.refund', params: { amountUsd }, issueType: undefined });

  it('asks one approval below the rule, two above it, and says which rule asks', () => {
    expect(evaluatePolicy(quorumPolicy, refund(600), calm).quorum).toBeUndefined();
    expect(evaluatePolicy(quorumPolicy, refund(6000), calm)).toMatchObject({
      outcome: 'pending',
      tier: 'restricted',
      quorum: { approvals: 2, groups: [], rule: 'policy.agents[0].actions[0].rules[1]' },
    });
  });

  it('takes the groups of the stricter rule at an equal count', () => {
    expect(evaluatePolicy(quorumPolicy, refund(25000), calm).quorum).toEqual({ approvals: 2, groups: ['S0FINANCE', 'S0RISK'], rule: 'policy.agents[0].actions[0].rules[2]' });
  });

  it('makes a rule with approvals alone restricted', () => {
    const p = policySchema.parse({ agents: [{ id: 'a', actions: [{ action: 'x.y', tier: 'autonomous', rules: [{ when: { param: 'n', gt: 1 }, approvals: 2, reason: 'big' }] }] }] });
    expect(evaluatePolicy(p, req({ agentId: 'a', actionType: 'x.y', params: { n: 2 }, issueType: undefined }), calm)).toMatchObject({ outcome: 'pending', tier: 'restricted', quorum: { approvals: 2 } });
  });

  it('reads an action-level quorum', () => {
    expect(evaluatePolicy(quorumPolicy, req({ agentId: 'a', actionType: 'payments.payout', issueType: undefined }), calm).quorum).toEqual({ approvals: 3, groups: [], rule: 'policy.agents[0].actions[1]' });
  });

  it('refuses fewer groups than approvals, and a deny rule with approvals', () => {
    expect(policySchema.safeParse({ agents: [{ id: 'a', actions: [{ action: 'x', tier: 'restricted', approvals: 3, distinctGroups: ['S0A1', 'S0B1'] }] }] }).success).toBe(false);
    expect(policySchema.safeParse({ agents: [{ id: 'a', actions: [{ action: 'x', tier: 'restricted', rules: [{ when: { param: 'n', gt: 1 }, deny: true, approvals: 2, reason: 'r' }] }] }] }).success).toBe(false);
  });
});

describe('spend', () => {
  it('reads an action\'s own spend from its spendParam', () => {
    expect(actionSpendUsd(policy, 'procurement-agent', 'purchases.create', { amountUsd: 120.5 })).toBe(120.5);
    expect(actionSpendUsd(policy, 'support-agent', 'crm.read', { amountUsd: 120.5 })).toBe(0);
    expect(actionSpendUsd(policy, 'procurement-agent', 'purchases.create', { amountUsd: -3 })).toBe(0);
  });
});

/** Random policies over a small vocabulary, so that requests often hit them. */
const verbs = ['a.read', 'a.write', 'b.send', 'b.delete', 'c.grant'];
const arbPolicy: fc.Arbitrary<Policy> = fc
  .record({
    actions: fc.uniqueArray(
      fc.record({
        action: fc.constantFrom(...verbs, 'a.*', 'b.*'),
        tier: fc.constantFrom('autonomous', 'supervised', 'restricted'),
        rules: fc.array(
          fc.record({
            when: fc.record({ param: fc.constant('n'), gt: fc.integer({ min: 0, max: 100 }) }),
            tier: fc.constantFrom('autonomous', 'supervised', 'restricted'),
            reason: fc.constant('r'),
          }),
          { maxLength: 3 },
        ),
      }),
      { selector: (a) => a.action, maxLength: 4 },
    ),
    deny: fc.array(fc.record({ action: fc.constantFrom(...verbs), reason: fc.constant('no') }), { maxLength: 2 }),
  })
  .map((a) => policySchema.parse({ agents: [{ id: 'agent', ...a }] }));
const arbReq = fc.record({
  agentId: fc.constantFrom('agent', 'other'),
  actionType: fc.constantFrom(...verbs, 'z.unknown'),
  params: fc.record({ n: fc.integer({ min: -10, max: 200 }) }),
  issueType: fc.constant('t'),
  confidence: fc.double({ min: 0, max: 1, noNaN: true }),
});

describe('policy properties', () => {
  it('never allows an action missing from the allow list', () => {
    fc.assert(
      fc.property(arbPolicy, arbReq, (p, r) => {
        const listed = r.agentId === 'agent' && p.agents[0]!.actions.some((a) => a.action === r.actionType || (a.action.endsWith('.*') && r.actionType.startsWith(a.action.slice(0, -1))));
        if (!listed) expect(evaluatePolicy(p, r, calm).outcome).toBe('deny');
      }),
      { numRuns: 1000 },
    );
  });

  it('never answers allow for a restricted action', () => {
    fc.assert(
      fc.property(arbPolicy, arbReq, (p, r) => {
        const d = evaluatePolicy(p, r, calm);
        if (d.tier === 'restricted') expect(d.outcome).not.toBe('allow');
      }),
      { numRuns: 1000 },
    );
  });

  it('never lowers the tier of the matching action entry', () => {
    const rank = { autonomous: 0, supervised: 1, restricted: 2 } as const;
    fc.assert(
      fc.property(arbPolicy, arbReq, (p, r) => {
        const d = evaluatePolicy(p, r, calm);
        const entry = p.agents[0]!.actions.find((a) => a.action === r.actionType);
        if (d.tier && entry && r.agentId === 'agent') expect(rank[d.tier]).toBeGreaterThanOrEqual(rank[entry.tier]);
      }),
      { numRuns: 1000 },
    );
  });

  it('denies whatever an explicit deny rule names, whatever the allow list says', () => {
    fc.assert(
      fc.property(arbPolicy, arbReq, (p, r) => {
        if (r.agentId === 'agent' && p.agents[0]!.deny.some((d) => d.action === r.actionType)) {
          expect(evaluatePolicy(p, r, calm).outcome).toBe('deny');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('budget alerts', () => {
  it('fire at 80% and 100% of an agent cap, each once, and at 120% of the org projection', async () => {
    const { alertsFor } = await import('../../../src/flow/policy.js');
    const { budgetWindows, toMicros } = await import('../../../src/domain/budget.js');
    const windows = budgetWindows(policy, { agentId: 'procurement-agent', executionId: 'e' }, new Date('2026-11-25T12:00:00Z'));
    const totals = (day: number, month: number) => [toMicros(day), toMicros(day), toMicros(day), toMicros(month)];
    // $390 → $410 of $500/day crosses 80%; the org's $10,000 projection alerts at $12,000.
    expect(alertsFor(policy, windows, totals(410, 410), toMicros(20)).map((a) => [a.window.kind, a.level, a.basis])).toEqual([['day', 0.8, 'cap']]);
    expect(alertsFor(policy, windows, totals(420, 420), toMicros(10))).toEqual([]);
    expect(alertsFor(policy, windows, totals(500, 500), toMicros(80)).map((a) => a.level)).toEqual([1]);
    expect(alertsFor(policy, windows, totals(100, 12_000), toMicros(50)).map((a) => [a.window.kind, a.level, a.basis])).toEqual([['month', 1.2, 'projection']]);
  });
});
