import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/file.js';
import type { EscalationRow } from '../../../src/db/schema/escalations.js';
import { requestDigest } from '../../../src/domain/digest.js';
import { editableFields } from '../../../src/domain/edit.js';
import { buildExplanation } from '../../../src/domain/explanation.js';
import { parseEscalation, type Escalation } from '../../../src/domain/escalation.js';
import { cardStateOf } from '../../../src/flow/card-state.js';
import { editModal, editErrors, parseEditMetadata, submittedEdits } from '../../../src/slack/cards/edit-modal.js';
import { escalationCard } from '../../../src/slack/cards/escalation-card.js';
import { ACTION_EDIT_APPROVE } from '../../../src/slack/cards/view-model.js';

const { config } = parseConfig(readFileSync(new URL('../../../examples/countersign.yml', import.meta.url), 'utf8'), 'example');
const parsed = parseEscalation({
  ...JSON.parse(readFileSync(new URL('../../../examples/escalation.json', import.meta.url), 'utf8')),
  agent: { id: 'procurement-agent', name: 'Procurement Agent', owner: 'U0AGENTOWNR', model: 'm', modelVersion: '1', promptVersion: 'p' },
  issueType: 'procurement',
  action: { type: 'purchases.create', params: { amountUsd: 1450, vendor: 'Dell', note: '<!channel> ~rush~' }, reversible: true },
});
if (!parsed.ok) throw new Error('the purchase must be valid');
const purchase: Escalation = parsed.escalation;
/** When the fixtures were decided: fixed, so no figure depends on the day the test runs. */
const DECIDED_AT = new Date('2030-01-01T00:00:00Z');

function rowOf(e: Escalation, over: Partial<EscalationRow> = {}): EscalationRow {
  const at = new Date('2029-12-31T23:00:00Z');
  return {
    id: e.id, status: 'pending', digest: requestDigest(e), executionId: e.executionId, agentId: e.agent.id, agentOwner: e.agent.owner, actionType: e.action.type,
    issueType: e.issueType, urgency: e.urgency, route: 'default', channel: 'C0GENERAL1', request: e, errors: null, callbackUrl: null, deadline: at, cardState: 'posted',
    cardTs: '1.2', digestId: null, cardLeaseUntil: null, approvalsRequired: 1, approvalGroups: null, approvals: [], decidedOnBehalfOf: null, decidedBy: null, decidedAt: null, decisionReason: null, approvedParams: null, approvedDigest: null, failSafe: false, policyVersion: 'v', notifiedAt: null,
    tier: 'restricted', policyRule: null, policyReason: null, triggers: null, decisionCode: null, mode: null, reviewState: 'none', reviewedBy: null, reviewedAt: null, reviewNote: null,
    createdAt: at, ...over,
  };
}
const buttonsOf = (m: { blocks: unknown[] }) => (m.blocks as Array<{ type: string; elements?: Array<{ action_id: string }> }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements!.map((x) => x.action_id));

describe('the escalation card and Edit and approve', () => {
  it('offers Edit and approve… beside Approve only while pending, and only under a config that marks params editable', () => {
    const ids = buttonsOf(escalationCard(cardStateOf(rowOf(purchase), config)));
    expect(ids[0]).toBe('countersign.approve');
    expect(ids.indexOf(ACTION_EDIT_APPROVE)).toBe(ids.indexOf('countersign.deny') - 1);
    expect(buttonsOf(escalationCard(cardStateOf(rowOf(purchase))))).not.toContain(ACTION_EDIT_APPROVE);
    expect(buttonsOf(escalationCard(cardStateOf(rowOf(purchase, { status: 'approved', decidedBy: 'U0APPROVER1', decidedAt: DECIDED_AT }), config)))).toEqual([]);
  });

  it('shows an approval with edits as a diff: the amount in dollars, requested struck through', () => {
    const row = rowOf(purchase, { status: 'approved', decidedBy: 'U0APPROVER1', decidedAt: new Date('2030-01-01T00:00:00Z'), approvedParams: { ...purchase.action.params, amountUsd: 1200.5, note: '<@U123> later' }, approvedDigest: 'f'.repeat(64) });
    const text = JSON.stringify(escalationCard(cardStateOf(row, config)).blocks);
    expect(text).toContain('*Approved with edits:* *amountUsd* ~$1,450.00~ → $1,200.50');
    // Agent and approver text in the diff stays inert.
    expect(text).toContain('&lt;@U123&gt; later');
    expect(text).not.toContain('<@U123>');
    expect(text).not.toContain('<!channel>');
    // The stakes line counts what was approved.
    expect(text).toContain('$1,200.50');
  });
});

describe('the Edit and approve modal', () => {
  const fields = editableFields(config.policy, 'procurement-agent', 'purchases.create', purchase.action.params);
  const modal = editModal({ id: purchase.id, digest: requestDigest(purchase), channel: 'C0GENERAL1' }, 'purchases.create', fields, 'amountUsd');

  it('has one pre-filled number input per editable param, bound to the card it came from', () => {
    const inputs = (modal.blocks as Array<{ type: string; block_id?: string; element?: Record<string, unknown>; hint?: { text: string } }>).filter((b) => b.type === 'input');
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toMatchObject({ block_id: 'edit:amountUsd', element: { type: 'number_input', initial_value: '1450', min_value: '0' }, hint: { text: 'Requested: $1,450.00' } });
    expect(parseEditMetadata(modal.private_metadata)).toEqual({ id: purchase.id, digest: requestDigest(purchase), channel: 'C0GENERAL1' });
    expect(parseEditMetadata('not json')).toBeUndefined();
  });

  it('reads the submitted values per param, and keys errors by their block', () => {
    expect(submittedEdits({ 'edit:amountUsd': { value: { value: '200' } }, reason: { reason_input: { value: 'x' } }, 'edit:note': { value: { value: null } } })).toEqual({ amountUsd: '200', note: null });
    expect(editErrors({ amountUsd: 'Must not be negative.' })).toEqual({ 'edit:amountUsd': 'Must not be negative.' });
  });
});

describe('explain', () => {
  it('shows both versions of an approval with edits, and both digests', () => {
    const row = rowOf(purchase, { status: 'approved', decidedBy: 'U0APPROVER1', decidedAt: DECIDED_AT, approvedParams: { ...purchase.action.params, amountUsd: 1200 }, approvedDigest: 'f'.repeat(64) });
    const made = { id: 1, type: 'decision_made', actor: 'U0APPROVER1', at: DECIDED_AT, data: { status: 'approved', digest: row.digest, edited: { from: { amountUsd: 1450 }, to: { amountUsd: 1200 }, approvedDigest: 'f'.repeat(64) } } };
    const lines = buildExplanation(row, [made], []).sections.find((s) => s.heading === 'Who decided, and why')!.lines;
    expect(lines).toContain('Edited before approving: amountUsd: 1450 → 1200');
    expect(lines).toContain(`Request digest ${row.digest} (as asked) · approved digest ${'f'.repeat(64)} (as edited)`);
  });
});
