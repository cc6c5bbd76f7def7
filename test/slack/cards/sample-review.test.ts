import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEscalation, type Escalation } from '../../../src/domain/escalation.js';
import type { SampleCardState } from '../../../src/slack/cards/sample-review.js';
import { parseSampleButtonValue, sampleReviewCard } from '../../../src/slack/cards/sample-review.js';
import type { CardState } from '../../../src/slack/cards/view-model.js';
import { createRedactor } from '../../../src/domain/redact.js';

const parsed = parseEscalation(JSON.parse(readFileSync(new URL('../../../examples/escalation.json', import.meta.url), 'utf8')));
if (!parsed.ok) throw new Error('examples/escalation.json must be valid');
const EXAMPLE: Escalation = parsed.escalation;
const SAMPLE_ID = '3b8e6f2a-1c4d-4e5f-8a9b-0c1d2e3f4a5b';

function state(e: Escalation, over: Partial<SampleCardState> = {}): SampleCardState {
  const card: CardState = {
    escalation: createRedactor().value(e),
    digest: 'a'.repeat(64),
    route: 'default',
    deadline: new Date('2026-11-20T10:00:00Z'),
    status: 'allowed',
    decidedBy: 'policy',
    decidedAt: new Date('2026-11-20T09:00:00Z'),
    reason: null,
    failSafe: false,
    whyHuman: ['crm.read is autonomous'],
  };
  return {
    sample: { sampleId: SAMPLE_ID, seed: 'f'.repeat(32), agentId: 'support-agent', percent: 5, windowFrom: new Date('2026-11-13T10:00:00Z'), windowTo: new Date('2026-11-20T10:00:00Z'), population: 800, size: 40 },
    index: 3,
    card,
    ...over,
  };
}

describe('batch review card', () => {
  it('shows the full context in the past tense, the outcome, and Correct / Incorrect… bound to the sample and the action', () => {
    const m = sampleReviewCard(state(EXAMPLE, { outcome: { success: false, detail: 'Stripe said card_declined', at: new Date('2026-11-20T09:01:00Z') } }));
    const text = JSON.stringify(m.blocks);
    expect(text).toContain('*Batch review* · 3 of 40 · `support-agent`');
    expect(text).toContain('Refund $340.00 for order #4521');
    expect(text).toContain(':white_check_mark: *Allowed by policy*');
    expect(text).toContain(':x: Reported *failed*');
    expect(text).toContain('Stripe said card_declined');
    // PII in params is masked as on the approval card.
    expect(text).not.toContain('jane.doe@example.com');
    const buttons = (m.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>).flatMap((b) => b.elements ?? []).filter((b) => b.action_id?.startsWith('countersign.sample_'));
    expect(buttons.map((b) => b.action_id)).toEqual(['countersign.sample_correct', 'countersign.sample_incorrect']);
    expect(parseSampleButtonValue(buttons[0]!.value)).toEqual({ sampleId: SAMPLE_ID, escalationId: EXAMPLE.id });
  });

  it('shows the verdict instead of the buttons once judged, with the note inert', () => {
    const m = sampleReviewCard(state(EXAMPLE, { verdict: { verdict: 'incorrect', by: 'U0APPROVER2', at: new Date('2026-11-21T09:00:00Z'), note: 'wrong customer <!channel> @here' } }));
    const text = JSON.stringify(m.blocks);
    expect(text).toContain('Reviewed *incorrect* by <@U0APPROVER2>');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('countersign.sample_correct');
    expect(m.text).toBe('Reviewed incorrect: Support Agent ran payments.refund');
  });

  it("stays under Slack's size ceiling with the longest agent text, outcome and note", () => {
    const long = 'x'.repeat(20_000);
    const huge: Escalation = {
      ...EXAMPLE,
      reasoning: long,
      handoff: { attempted: long, failed: long, gathered: long, recommendation: long },
      action: { ...EXAMPLE.action, params: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`p${i}`, 'y'.repeat(190)])) },
    };
    const m = sampleReviewCard(state(huge, { outcome: { success: true, detail: long, at: new Date('2026-06-15T12:00:00Z') }, verdict: { verdict: 'incorrect', by: 'U0APPROVER2', at: new Date('2026-06-15T12:05:00Z'), note: long } }));
    expect(JSON.stringify(m.blocks).length).toBeLessThanOrEqual(12_000);
    expect(m.blocks.length).toBeLessThanOrEqual(50);
  });
});
