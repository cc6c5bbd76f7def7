import { describe, expect, it } from 'vitest';
import { buildExplanation, explanationText, type ExplainEscalation, type ExplainEvent } from '../../src/domain/explanation.js';

const at = (s: string) => new Date(`2026-11-25T${s}Z`);
const base: ExplainEscalation = {
  id: '7d1f7a7e-4c1b-4f7e-9a55-2f4be0c6a111', status: 'pending', executionId: 'exec-1', agentId: 'support-agent', agentOwner: 'U0AGENTOWNR',
  actionType: 'payments.refund', route: 'refunds', channel: 'C0REFUNDS1',
  request: { agent: { id: 'support-agent', name: 'Support Agent' }, action: { type: 'payments.refund', params: { amountUsd: 2400 }, reversible: false }, reasoning: 'Big refund.' },
  deadline: at('15:00:00'), decidedBy: null, decidedAt: null, decisionReason: null, failSafe: false, policyVersion: 'abc', tier: 'restricted',
  policyRule: 'policy.agents[0].actions[3].rules[0]', policyReason: 'refund over $500', triggers: [{ kind: 'high_stakes', message: 'high stakes: amountUsd > 2000' }],
  decisionCode: 'needs_approval', reviewState: 'none', reviewedBy: null, reviewedAt: null, reviewNote: null, createdAt: at('14:00:00'),
};
const ev = (id: number, type: string, data: Record<string, unknown>, actor = 'system', time = '14:00:01'): ExplainEvent => ({ id, type, actor, at: at(time), data });
const section = (x: ReturnType<typeof buildExplanation>, heading: string) => x.sections.find((s) => s.heading === heading)!.lines;

describe('buildExplanation', () => {
  it('always gives the six steps in order', () => {
    expect(buildExplanation(base, [], []).sections.map((s) => s.heading)).toEqual([
      'Input', 'Reasoning', 'Policy rule and triggers', 'Who was paged', 'Who decided, and why', 'Outcome',
    ]);
  });

  it('names who was paged, the escalation steps, refused attempts and the fail-safe expiry', () => {
    const row = { ...base, status: 'expired', decidedAt: at('15:00:00'), failSafe: true };
    const x = buildExplanation(row, [
      ev(1, 'card_posted', { channel: 'C0REFUNDS1', approvers: { users: ['U0APPROVER1'], usergroup: 'S0FINANCE1' } }),
      ev(2, 'paged', { user: 'U0ONCALL1', reason: 'U0ONCALL1 is the on-call primary for route refunds' }),
      ev(3, 'chain_step', { step: 1, reached: [{ via: 'dm', users: ['U0ONCALL2'] }] }),
      ev(6, 'oncall_dm', { user: 'U0ONCALL1', channel: 'D0ONCALL1', ts: '1.000100' }),
      ev(4, 'decision_refused', { kind: 'approve', reason: 'owner_cannot_approve' }, 'U0AGENTOWNR'),
      ev(5, 'expired', { outcome: 'denied', failSafe: true, policyVersion: 'abc', route: 'refunds' }, 'system', '15:00:00'),
    ], []);
    expect(section(x, 'Policy rule and triggers')).toEqual([
      'Tier restricted by rule policy.agents[0].actions[3].rules[0]: refund over $500',
      'Trigger high_stakes: high stakes: amountUsd > 2000',
      'Policy version abc · route refunds → channel C0REFUNDS1',
    ]);
    expect(section(x, 'Who was paged')).toEqual([
      '2026-11-25T14:00:01Z: card posted to C0REFUNDS1 for its approvers (U0APPROVER1, user group S0FINANCE1)',
      '2026-11-25T14:00:01Z: paged U0ONCALL1: U0ONCALL1 is the on-call primary for route refunds',
      '2026-11-25T14:00:01Z: escalation step 2 reached dm U0ONCALL2',
      '2026-11-25T14:00:01Z: sent U0ONCALL1 a DM',
    ]);
    expect(section(x, 'Who decided, and why')).toEqual([
      'Expired at 2026-11-25T15:00:00Z: nobody decided before the deadline (2026-11-25T15:00:00Z), so the fail-safe outcome applied (denied), decided by system under policy abc.',
      '2026-11-25T14:00:01Z: U0AGENTOWNR tried to approve: refused (owner_cannot_approve)',
    ]);
    expect(section(x, 'Outcome')[0]).toBe('The agent was told to not proceed.');
  });

  it('says when a burst put the request in its channel’s digest instead of a card', () => {
    const x = buildExplanation(base, [ev(1, 'card_digested', { channel: 'C0REFUNDS1', digestId: '0b5c1f7e-4c1b-4f7e-9a55-2f4be0c6a111' })], []);
    expect(section(x, 'Who was paged')).toEqual([
      "2026-11-25T14:00:01Z: a burst into C0REFUNDS1: shown in the channel's digest instead of a card of its own, decided from App Home",
    ]);
  });

  it('names every approver of a quorum, each approval in turn, and the rule that asked for it', () => {
    const row = { ...base, status: 'approved', decidedBy: 'U0APPROVER2', decidedAt: at('14:20:00'), approvalsRequired: 2, approvalGroups: null };
    const x = buildExplanation(row, [
      ev(1, 'received', { policy: { quorum: { approvals: 2, groups: [], rule: 'policy.agents[0].actions[3].rules[1]' } } }),
      ev(2, 'approval_recorded', { approvals: 1, required: 2, approvers: ['U0APPROVER1'] }, 'U0APPROVER1', '14:10:00'),
      ev(3, 'decision_refused', { kind: 'approve', reason: 'owner_cannot_approve' }, 'U0AGENTOWNR', '14:15:00'),
      ev(4, 'approval_recorded', { approvals: 2, required: 2, approvers: ['U0APPROVER1', 'U0APPROVER2'] }, 'U0APPROVER2', '14:20:00'),
      ev(5, 'decision_made', { status: 'approved', policyVersion: 'abc', approvers: ['U0APPROVER1', 'U0APPROVER2'], approvalsRequired: 2 }, 'U0APPROVER2', '14:20:00'),
    ], []);
    expect(section(x, 'Policy rule and triggers')).toContain("Quorum: 2 approvals from different approvers, never the agent's owner (rule policy.agents[0].actions[3].rules[1])");
    expect(section(x, 'Who decided, and why')).toEqual([
      'Approved by U0APPROVER1 and U0APPROVER2 (2 of 2 approvals) at 2026-11-25T14:20:00Z under policy abc',
      'No reason given.',
      '2026-11-25T14:10:00Z: U0APPROVER1 approved (1 of 2)',
      '2026-11-25T14:15:00Z: U0AGENTOWNR tried to approve: refused (owner_cannot_approve)',
      '2026-11-25T14:20:00Z: U0APPROVER2 approved (2 of 2)',
    ]);
  });

  it('tells a supervised action marked wrong in review, and the compensation', () => {
    const row = { ...base, status: 'allowed', tier: 'supervised', triggers: [], decidedBy: 'policy', decidedAt: at('14:00:00'), decisionCode: 'policy_allowed', decisionReason: 'payments.refund is supervised', reviewState: 'wrong', reviewedBy: 'U0APPROVER1', reviewedAt: at('14:30:00'), reviewNote: 'wrong customer' };
    const x = buildExplanation(row, [], [{ id: 'o1', actionType: 'payments.refund', step: 'payments.refund', success: true, output: 'done', error: null, costTokens: 10, costUsdMicros: 20_000, at: at('14:01:00') }]);
    expect(section(x, 'Who decided, and why')).toEqual([
      'Decided by policy at 2026-11-25T14:00:00Z (policy_allowed): payments.refund is supervised',
      'Reviewed after it ran: wrong by U0APPROVER1 at 2026-11-25T14:30:00Z: wrong customer',
    ]);
    expect(section(x, 'Outcome')).toEqual([
      'The agent was told to proceed, then to compensate.',
      '2026-11-25T14:01:00Z: payments.refund succeeded · output: done · cost $0.02, 10 tokens',
    ]);
    expect(explanationText(x)).toMatch(/^Support Agent wanted to run payments\.refund \[allowed\]\n\n1\. Input\n/);
  });
});
