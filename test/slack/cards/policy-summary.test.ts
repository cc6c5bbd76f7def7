import { describe, expect, it } from 'vitest';
import { policySchema } from '../../../src/domain/policy/schema.js';
import { policySummaryMessage } from '../../../src/slack/cards/policy-summary.js';

const hostile = (i: number) => `<!channel> agent-${i} ${'x'.repeat(180)}`;
const agent = (i: number) => ({
  id: hostile(i),
  actions: Array.from({ length: 12 }, (_, j) => ({
    action: `act.n${j}`,
    tier: 'supervised',
    rules: [{ when: { param: 'amountUsd', gt: 100 * j }, tier: 'restricted', reason: `rule ${'r'.repeat(250)}` }],
  })),
  budgets: { perTaskUsd: 5, dailyUsd: 500 },
});

describe('the policy-in-force message', () => {
  it('stays within what Slack accepts for a big policy with hostile ids, and names the agents that did not fit', () => {
    const policy = policySchema.parse({ agents: Array.from({ length: 60 }, (_, i) => agent(i)) });
    const m = policySummaryMessage({ policy, version: 'v1', agents: [] });
    expect(m.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(m.blocks).length).toBeLessThanOrEqual(12_000);
    const texts = (m.blocks as Array<{ text?: { text: string }; elements?: Array<{ text: string }> }>).flatMap((b) => [b.text?.text ?? '', ...(b.elements ?? []).map((e) => e.text)]);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(3000);
    expect(texts.join('\n')).not.toContain('<!channel>');
    expect(texts.join('\n')).toMatch(/\d+ more agents? did not fit: .*`\/countersign policy <agent id>` shows one\./);
  });

  it('says when no policy is configured', () => {
    expect(policySummaryMessage({ policy: undefined, version: 'v1', agents: [] }).text).toContain('No policy is configured');
  });
  it('shows a quorum on an action and on a rule, a rule with approvals alone as restricted', () => {
    const policy = policySchema.parse({
      agents: [
        {
          id: 'treasury-agent',
          actions: [
            { action: 'payments.transfer', tier: 'restricted', rules: [{ when: { param: 'amountUsd', gt: 10000 }, approvals: 2, distinctGroups: ['S0FINANCE1', 'S0RISK0001'], reason: 'big transfer' }] },
            { action: 'payments.wire', tier: 'restricted', approvals: 3 },
          ],
        },
      ],
    });
    const all = JSON.stringify(policySummaryMessage({ policy, version: 'v1', agents: [] }).blocks);
    expect(all).toContain('`payments.transfer`: *restricted*; restricted, 2 approvals (each from a different group of `S0FINANCE1`, `S0RISK0001`) when amountUsd &gt; 10000 (big transfer)');
    expect(all).toContain('`payments.wire`: *restricted*, 3 approvals');
  });
});
