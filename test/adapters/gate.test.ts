import { describe, expect, it } from 'vitest';
import { decide, type Gate } from '../../src/adapters/gate.js';
import type { DecisionMessage } from '../../src/domain/decision.js';
import type { AuthorizeAnswer } from '../../src/flow/answer.js';

const digest = 'a'.repeat(64);
const call = { toolName: 'buy', toolCallId: 'call-1', args: { amountUsd: 640 }, executionId: 'run-1' };
const opts = { agent: { id: 'shopper', owner: 'U0AGENTOWNR' }, waitMs: 1000 };
const pending: AuthorizeAnswer = { escalationId: 'e', decision: 'pending', status: 'pending', code: 'needs_approval', tier: 'restricted', rule: null, reason: null, triggers: [], policyVersion: null };
const approved = (edited: boolean): DecisionMessage => ({
  version: 1, escalationId: 'e', executionId: 'run-1', status: 'approved', proceed: true,
  decision: { by: 'U0APPROVER1', at: null, reason: null, failSafe: false, code: null, tier: 'restricted', rule: null },
  requestDigest: digest,
  approved: { edited, editedParams: edited ? { amountUsd: 480 } : {}, requestDigest: digest, approvedDigest: edited ? 'b'.repeat(64) : digest },
});
const gateAnswering = (m: DecisionMessage): Gate => ({ authorize: async () => pending, waitForDecision: async () => m, reportOutcome: async () => ({ id: 'o' }) });

describe('adapters and Edit and approve', () => {
  it('run a call approved as asked', async () => {
    expect(await decide(gateAnswering(approved(false)), call, opts)).toEqual({ kind: 'allow', escalationId: 'e' });
  });

  it("refuse a call approved only with edits, rather than run the model's own arguments, and say which values were approved", async () => {
    const d = await decide(gateAnswering(approved(true)), call, opts);
    expect(d).toMatchObject({ kind: 'deny', code: 'approved_with_edits' });
    expect(d.kind === 'deny' && d.reason).toContain('a person approved it only with amountUsd = 480');
  });
});
