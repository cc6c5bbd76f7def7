import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEscalation, type Escalation } from '../../../src/domain/escalation.js';
import { escalationCard } from '../../../src/slack/cards/escalation-card.js';
import { handoffLine, handoffMenu, parseHandoffValue, parseReassignMetadata, reassignModal } from '../../../src/slack/cards/handoff.js';
import { oncallDm } from '../../../src/slack/cards/oncall-dm.js';
import type { CardState } from '../../../src/slack/cards/view-model.js';

const parsed = parseEscalation(JSON.parse(readFileSync(new URL('../../../examples/escalation.json', import.meta.url), 'utf8')));
if (!parsed.ok) throw new Error('examples/escalation.json must be valid');
const EXAMPLE: Escalation = parsed.escalation;
const DIGEST = 'd'.repeat(64);
const AT = new Date('2030-01-01T10:00:00Z');

const card = (over: Partial<CardState> = {}): CardState => ({
  escalation: EXAMPLE, digest: DIGEST, route: 'refunds', deadline: new Date('2030-01-01T12:00:00Z'), status: 'pending', decidedBy: null, decidedAt: null,
  reason: null, failSafe: false, whyHuman: ['refunds need a person'], ...over,
});
const text = (m: { text: string; blocks: unknown[] }) => `${m.text}\n${JSON.stringify(m.blocks)}`;

describe('the hand-off menu', () => {
  it('offers the configured snooze and Reassign…, bound to the request', () => {
    const menu = handoffMenu(EXAMPLE.id, DIGEST, 45);
    expect(menu.options!.map((o) => o.text.text)).toEqual(['Snooze 45 min', 'Reassign…']);
    expect(parseHandoffValue(menu.options![1]!.value)).toEqual({ choice: 'reassign', id: EXAMPLE.id, digest: DIGEST });
    expect(parseHandoffValue('nap:x:y')).toBeUndefined();
  });
});

describe('the card while it waits', () => {
  it('says who it was reassigned to and by whom, and the latest snooze with the deadline unchanged', () => {
    const t = text(escalationCard(card({ handoff: { assignee: { to: 'U0APPROVER2', by: 'U0APPROVER1', at: AT, onBehalfOf: 'U0AWAY00001' }, snooze: { by: 'U0APPROVER1', until: AT } } })));
    expect(t).toContain('Reassigned to <@U0APPROVER2> by <@U0APPROVER1> (for <@U0AWAY00001>) at <!date^');
    expect(t).toContain(':zzz: Snoozed by <@U0APPROVER1> until <!date^');
    expect(t).toContain('the deadline is unchanged');
  });

  it('drops the hand-offs and the menu once decided, and names the delegator a delegate decided for', () => {
    const decided = escalationCard(card({ status: 'approved', decidedBy: 'U0DELEGATE', decidedAt: AT, onBehalfOf: 'U0APPROVER2', handoff: { snooze: { by: 'U0APPROVER1', until: AT } } }));
    expect(text(decided)).toContain('*Approved* by <@U0DELEGATE> on behalf of <@U0APPROVER2> at');
    expect(text(decided)).not.toContain('Snoozed');
    expect(text(decided)).not.toContain('countersign.handoff');
  });

  it('builds no mention from an id of the wrong shape', () => {
    expect(handoffLine({ assignee: { to: '<!channel>', by: 'U0APPROVER1', at: AT } })).toContain('Reassigned to (unknown user)');
    expect(handoffLine(undefined)).toBeUndefined();
  });
});

describe('the Reassign modal', () => {
  it('asks for one approver (a user select) and an optional note, bound to the escalation', () => {
    const view = reassignModal({ id: EXAMPLE.id, digest: DIGEST, channel: 'C0REFUNDS1' }, { actionType: 'payments.refund', route: 'refunds' });
    expect(view.callback_id).toBe('countersign.reassign');
    expect(view.blocks.map((b) => (b as { element?: { type: string } }).element?.type)).toEqual([undefined, 'users_select', 'plain_text_input']);
    expect(parseReassignMetadata(view.private_metadata)).toEqual({ id: EXAMPLE.id, digest: DIGEST, channel: 'C0REFUNDS1' });
  });
});

describe('the DM a hand-off sends', () => {
  const dm = (over = {}) => text(oncallDm({ card: card(), route: 'refunds', channel: 'C0REFUNDS1', canDecide: true, ...over }));

  it('says the snooze is over', () => {
    expect(dm({ reason: { kind: 'snooze' } })).toContain(':alarm_clock: Your snooze is over: an approval on route `refunds` is still waiting');
  });

  it('says who reassigned it, with their note made safe', () => {
    const t = dm({ reason: { kind: 'reassigned', by: 'U0APPROVER1', note: 'ping <!channel> please' } });
    expect(t).toContain('<@U0APPROVER1> reassigned an approval on route `refunds` to you');
    expect(t).not.toContain('<!channel>');
  });

  it('tells a delegate whom they are covering for', () => {
    expect(dm({ onBehalfOf: 'U0AWAY00001' })).toContain('You are covering for <@U0AWAY00001>, who is out of office.');
  });
});
