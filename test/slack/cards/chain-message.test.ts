import { describe, expect, it } from 'vitest';
import { chainThreadMessage, mentionText, type ChainNotice } from '../../../src/slack/cards/chain-message.js';

const notice: ChainNotice = {
  actionType: 'payments.refund',
  agentId: 'support-agent',
  route: 'refunds',
  channel: 'C0REFUNDS1',
  urgency: 'high',
  mentions: [
    { kind: 'user', id: 'U0ONCALL01', role: 'primary' },
    { kind: 'usergroup', id: 'S0FINANCE1' },
  ],
  step: { number: 2, of: 3, round: 1, rounds: 2 },
  next: { at: new Date('2026-11-25T10:20:00Z'), failSafe: false },
};

const all = (m: { text: string; blocks: unknown[] }) => `${m.text}\n${JSON.stringify(m.blocks)}`;

describe('chain messages', () => {
  it('mention exactly the step’s people and group, and say where the chain stands', () => {
    const m = chainThreadMessage(notice);
    const text = all(m);
    expect([...text.matchAll(/<[@!][^>|]+/g)].map((x) => x[0])).toEqual(expect.arrayContaining(['<@U0ONCALL01', '<!subteam^S0FINANCE1']));
    expect(text).toContain('Escalation step 2 of 3, round 1 of 2');
    expect(text).toContain('next step <!date^');
  });

  it('keep agent text from pinging anyone or forging a mention', () => {
    const hostile = { ...notice, actionType: '<!channel> <@U0BOSS0001> @here', agentId: '<https://evil.example|bank>' };
    for (const m of [chainThreadMessage(hostile), chainThreadMessage({ ...hostile, resolution: { status: 'approved', decidedBy: 'U0APPROVER1', decidedAt: new Date('2026-11-25T10:52:00Z') } })]) {
      const text = all(m);
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<@U0BOSS0001>');
      expect(text).not.toMatch(/(^|[^\u2060])@here/);
      expect(text).not.toContain('<https://evil.example');
    }
  });

  it('render ids of the wrong shape inert instead of as mentions', () => {
    expect(mentionText({ kind: 'user', id: 'U0OK000001', role: 'primary' })).toBe('<@U0OK000001>');
    expect(mentionText({ kind: 'user', id: '!channel', role: 'primary' })).toBe('(unknown user)');
    expect(mentionText({ kind: 'usergroup', id: 'here' })).toBe('(unknown group)');
  });

  it('say why the step reached nobody it names, and when the fail-safe comes next', () => {
    const m = chainThreadMessage({ ...notice, fallback: 'nobody is on call for route refunds', next: { at: new Date('2026-11-25T11:10:00Z'), failSafe: true } });
    expect(all(m)).toContain(":warning: Nobody is on call for route refunds, so the route's approvers are pinged instead.");
    expect(all(m)).toContain('denied (fail-safe)');
  });

  it('once resolved, say how it ended, and neither ping anyone nor promise a next step', () => {
    const m = chainThreadMessage({ ...notice, resolution: { status: 'approved', decidedBy: 'U0APPROVER1', decidedAt: new Date('2026-11-25T10:52:00Z') } });
    const text = all(m);
    expect(text).toContain(':white_check_mark: *Resolved: approved* by <@U0APPROVER1>');
    expect(text).not.toContain('<@U0ONCALL01>');
    expect(text).not.toContain('<!subteam');
    expect(text).not.toContain('next step');
    expect(text).not.toContain('still waiting');
  });
});
