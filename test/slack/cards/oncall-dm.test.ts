import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEscalation, type Escalation } from '../../../src/domain/escalation.js';
import { oncallDm, type OncallDmState } from '../../../src/slack/cards/oncall-dm.js';
import { ACTION_APPROVE, ACTION_DENY, parseButtonValue, type CardState } from '../../../src/slack/cards/view-model.js';

const parsed = parseEscalation(JSON.parse(readFileSync(new URL('../../../examples/escalation.json', import.meta.url), 'utf8')));
if (!parsed.ok) throw new Error('examples/escalation.json must be valid');
const EXAMPLE: Escalation = parsed.escalation;
const DIGEST = 'd'.repeat(64);
const DEADLINE = new Date('2030-01-01T00:00:00Z');

const card = (over: Partial<CardState> = {}, e: Escalation = EXAMPLE): CardState => ({
  escalation: e, digest: DIGEST, route: 'payments', deadline: DEADLINE, status: 'pending', decidedBy: null, decidedAt: null,
  reason: null, failSafe: false, whyHuman: ['refunds need a person'], amountUsd: 340, highStakes: false, ...over,
});
const dm = (over: Partial<OncallDmState> = {}) =>
  oncallDm({ card: card(), route: 'payments', channel: 'C0PAYMENT1', permalink: 'https://acme.slack.com/archives/C0PAYMENT1/p1', canDecide: true, ...over });
const all = (m: { text: string; blocks: unknown[] }) => `${m.text}\n${JSON.stringify(m.blocks)}`;
const buttons = (m: { blocks: unknown[] }) =>
  (m.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string; confirm?: unknown }> }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);

describe('the on-call DM', () => {
  it('carries the title, the amount, the urgency, the deadline and a link to the card', () => {
    const text = all(dm());
    expect(text).toContain('*Refund $340.00 for order #4521*');
    expect(text).toContain('*$340.00*');
    expect(text).toContain('normal urgency');
    expect(text).toContain(`decide by <!date^${DEADLINE.getTime() / 1000}^`);
    expect(text).toContain('<https://acme.slack.com/archives/C0PAYMENT1/p1|Open the card>');
    expect(text).toContain('waiting for your decision in <#C0PAYMENT1>');
  });

  it('gives a person who may decide the card’s own Approve and Deny… buttons, bound to the request shown', () => {
    const b = buttons(dm());
    expect(b.map((x) => x.action_id)).toEqual([ACTION_APPROVE, ACTION_DENY]);
    for (const x of b) expect(parseButtonValue(x.value)).toEqual({ id: EXAMPLE.id, digest: DIGEST });
    // The example refund is irreversible: Approve asks first, as on the card.
    expect(b[0]!.confirm).toBeDefined();
  });

  it('gives no buttons to someone who may not decide, only the link', () => {
    expect(buttons(dm({ canDecide: false }))).toEqual([]);
  });

  it('says a shift change brought it, and where the chain stands', () => {
    const text = all(dm({ handoff: true, step: { number: 1, of: 3, round: 1, rounds: 1 }, next: { at: new Date('2029-12-31T23:05:00Z'), failSafe: false } }));
    expect(text).toContain('Your on-call shift started');
    expect(text).toContain('Escalation step 1 of 3 · next step <!date^');
  });

  it('once resolved, says who decided and when, with no buttons, deadline or next step', () => {
    const m = dm({ card: card({ status: 'approved', decidedBy: 'U0PAYOPS001', decidedAt: new Date('2029-12-31T23:52:00Z') }), step: { number: 1, of: 3, round: 1, rounds: 1 }, next: { at: DEADLINE, failSafe: false } });
    const text = all(m);
    expect(text).toContain(':white_check_mark: *Resolved: approved* by <@U0PAYOPS001> <!date^');
    expect(m.text).toContain('Resolved (approved)');
    expect(buttons(m)).toEqual([]);
    expect(text).not.toContain('decide by');
    expect(text).not.toContain('next step');
    expect(text).not.toContain('waiting for your decision');
  });

  it('keeps agent-chosen text inert', () => {
    const hostile = { ...EXAMPLE, agent: { ...EXAMPLE.agent, id: '<@U0BOSS>' }, action: { ...EXAMPLE.action, summary: '<!channel> pay now' } };
    const text = all(oncallDm({ card: card({}, hostile), route: 'payments', channel: 'C0PAYMENT1', canDecide: true }));
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<@U0BOSS>');
  });
});
