import { describe, expect, it } from 'vitest';
import { chainJobId, chainJobSchema, chainSchema, chainStep, chainTimeline } from '../../src/domain/escalation-chain.js';

const chain = chainSchema.parse({
  name: 'standard',
  steps: [
    { targets: ['primary_in_channel'], waitMinutes: 10 },
    { targets: ['dm_primary', 'secondary'], waitMinutes: 10 },
    { targets: ['usergroup'], waitMinutes: 15 },
  ],
  repeat: 2,
});

describe('escalation chains', () => {
  it('walks the steps, repeats the chain, then ends in the fail-safe outcome', () => {
    const t0 = new Date('2026-11-25T10:00:00Z');
    const timeline = chainTimeline(chain, t0, 'normal').map(({ at, step }) => [at.toISOString().slice(11, 16), step.kind === 'notify' ? step.targets.join('+') : 'fail_safe']);
    expect(timeline).toEqual([
      ['10:00', 'primary_in_channel'],
      ['10:10', 'dm_primary+secondary'],
      ['10:20', 'usergroup'],
      ['10:35', 'primary_in_channel'],
      ['10:45', 'dm_primary+secondary'],
      ['10:55', 'usergroup'],
      ['11:10', 'fail_safe'],
    ]);
  });

  it.each(['high', 'critical'] as const)('starts a %s escalation with a DM to the on-call person', (urgency) => {
    expect(chainStep(chain, 0, urgency)).toMatchObject({ kind: 'notify', targets: ['dm_primary', 'primary_in_channel'] });
    expect(chainStep(chain, 0, 'normal')).toMatchObject({ targets: ['primary_in_channel'] });
  });

  it('rejects an empty chain at load', () => {
    expect(chainSchema.safeParse({ name: 'x', steps: [] }).success).toBe(false);
  });
});

describe('chain jobs', () => {
  const id = '7d1f7a7e-4c1b-4f7e-9a55-2f4be0c6a111';

  it('have one fixed id per step and per handoff instant, so a repeated schedule adds nothing', () => {
    expect(chainJobId({ kind: 'step', escalationId: id, index: 3 })).toBe(`chain-${id}-3`);
    expect(chainJobId({ kind: 'handoff', escalationId: id, at: 1_790_000_000_000 })).toBe(`chain-${id}-handoff-1790000000000`);
    // BullMQ refuses custom ids with a colon.
    expect(chainJobId({ kind: 'step', escalationId: id, index: 0 })).not.toContain(':');
  });

  it('carry ids only, and refuse anything else', () => {
    expect(chainJobSchema.safeParse({ kind: 'step', escalationId: id, index: 0 }).success).toBe(true);
    expect(chainJobSchema.safeParse({ kind: 'step', escalationId: 'nope', index: 0 }).success).toBe(false);
    expect(chainJobSchema.safeParse({ kind: 'step', escalationId: id, index: -1 }).success).toBe(false);
    expect(chainJobSchema.safeParse({ kind: 'step', escalationId: id, index: 0, token: 'x' }).success).toBe(false);
  });
});
