import { describe, expect, it } from 'vitest';
import { COMBINATION, MODES, combine, inAuditSample, resolveMode, type Handling, type Mode, type ModeSource } from '../../src/domain/modes.js';
import { matches, type PolicyDecision } from '../../src/domain/policy/evaluate.js';
import { TIERS, type Tier } from '../../src/domain/policy/schema.js';

const decision = (tier: Tier | null, over: Partial<PolicyDecision> = {}): PolicyDecision => ({
  outcome: tier === null ? 'deny' : tier === 'restricted' ? 'pending' : 'allow',
  tier,
  rule: 'policy.agents[0].actions[0]',
  reason: `x is ${tier}`,
  triggers: [],
  ...over,
});
const mode = (m: Mode): ModeSource => ({ mode: m, source: 'policy.agents[0].mode', scope: '*' });

/** The table in docs/review-modes.md, cell by cell: what the request does, and the outcome an agent sees. */
const TABLE: Array<[row: 'deny' | 'triggered' | Tier, m: Mode, handling: Handling, outcome: PolicyDecision['outcome'], tier: Tier | null]> = [
  ['deny', 'pre_action', 'deny', 'deny', null],
  ['deny', 'post_action', 'deny', 'deny', null],
  ['deny', 'exception_only', 'deny', 'deny', null],
  ['triggered', 'pre_action', 'wait', 'pending', 'autonomous'],
  ['triggered', 'post_action', 'wait', 'pending', 'autonomous'],
  ['triggered', 'exception_only', 'wait', 'pending', 'autonomous'],
  ['restricted', 'pre_action', 'wait', 'pending', 'restricted'],
  ['restricted', 'post_action', 'wait', 'pending', 'restricted'],
  ['restricted', 'exception_only', 'wait', 'pending', 'restricted'],
  ['supervised', 'pre_action', 'wait', 'pending', 'supervised'],
  ['supervised', 'post_action', 'run_supervised', 'allow', 'supervised'],
  ['supervised', 'exception_only', 'run_supervised', 'allow', 'supervised'],
  ['autonomous', 'pre_action', 'wait', 'pending', 'autonomous'],
  ['autonomous', 'post_action', 'run_sampled', 'allow', 'supervised'],
  ['autonomous', 'exception_only', 'run', 'allow', 'autonomous'],
];

describe('the mode × tier combination table', () => {
  it('covers every mode and every policy result exactly once', () => {
    const cells = TABLE.map(([r, m]) => `${r}/${m}`);
    expect(new Set(cells).size).toBe(cells.length);
    expect(cells).toHaveLength((TIERS.length + 2) * MODES.length);
  });

  it.each(TABLE)('%s under %s: %s (outcome %s, tier %s)', (row, m, handling, outcome, tier) => {
    expect(COMBINATION[row][m]).toBe(handling);
    const d =
      row === 'deny'
        ? decision(null)
        : row === 'triggered'
          ? decision('autonomous', { outcome: 'pending', triggers: [{ kind: 'low_confidence', message: 'confidence 0.50 is below 0.70' }] })
          : decision(row);
    // Sampled: the post-action audit draw picked this action.
    const out = combine(d, mode(m), true);
    expect(out.handling).toBe(handling);
    expect(out.decision.outcome).toBe(outcome);
    expect(out.decision.tier).toBe(tier);
  });

  it('the stricter of mode and tier wins: no mode ever turns a waiting or denied action into a running one', () => {
    for (const row of ['deny', 'triggered', 'restricted'] as const) for (const m of MODES) expect(COMBINATION[row][m]).not.toMatch(/^run/);
  });

  it('an autonomous action outside the audit sample runs with no review under post-action audit', () => {
    const out = combine(decision('autonomous'), mode('post_action'), false);
    expect(out).toMatchObject({ handling: 'run', decision: { outcome: 'allow', tier: 'autonomous' } });
  });

  it('names the mode as the deciding rule and reason when pre-action review makes an action wait', () => {
    const out = combine(decision('autonomous'), mode('pre_action'), false);
    expect(out.decision.rule).toBe('policy.agents[0].mode');
    expect(out.decision.reason).toMatch(/^pre-action review: a person approves/);
  });
});

describe('the post-action audit sample', () => {
  it('is deterministic per escalation id and close to its rate', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
    const drawn = ids.filter((id) => inAuditSample(id, 0.1));
    expect(drawn.length / ids.length).toBeGreaterThan(0.08);
    expect(drawn.length / ids.length).toBeLessThan(0.12);
    expect(ids.filter((id) => inAuditSample(id, 0.1))).toEqual(drawn);
    expect(inAuditSample(ids[0]!, 0)).toBe(false);
    expect(inAuditSample(ids[0]!, 1)).toBe(true);
  });
});

describe('mode resolution', () => {
  const cfg = { mode: 'exception_only' as Mode, modes: { 'payments.*': 'pre_action' as Mode, 'crm.read': 'post_action' as Mode } };

  it('starts an agent with no mode anywhere in pre-action review', () => {
    expect(resolveMode(0, {}, {}, 'crm.read', matches)).toMatchObject({ mode: 'pre_action', scope: '*' });
  });

  it('prefers the stored mode over the config, and the config over the default', () => {
    expect(resolveMode(0, { mode: 'post_action' }, {}, 'x.y', matches)).toMatchObject({ mode: 'post_action', source: 'policy.agents[0].mode' });
    expect(resolveMode(0, { mode: 'post_action' }, { '*': 'exception_only' }, 'x.y', matches)).toMatchObject({ mode: 'exception_only', source: 'agent_modes' });
  });

  it('lets per-action modes tighten the agent mode, by exact type or glob, never loosen it', () => {
    expect(resolveMode(0, cfg, {}, 'payments.refund', matches)).toMatchObject({ mode: 'pre_action', source: 'policy.agents[0].modes["payments.*"]' });
    expect(resolveMode(0, cfg, {}, 'crm.read', matches)).toMatchObject({ mode: 'post_action' });
    expect(resolveMode(0, { mode: 'pre_action', modes: { 'crm.read': 'exception_only' } }, {}, 'crm.read', matches)).toMatchObject({ mode: 'pre_action', scope: '*' });
    // A new capability stored in pre-action review beats the agent's granted mode.
    expect(resolveMode(0, cfg, { '*': 'exception_only', 'email.send': 'pre_action' }, 'email.send', matches)).toMatchObject({ mode: 'pre_action', source: 'agent_modes' });
  });
});
