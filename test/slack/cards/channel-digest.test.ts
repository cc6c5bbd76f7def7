import { describe, expect, it } from 'vitest';
import { channelDigestMessage, digestHeadline, type DigestView } from '../../../src/slack/cards/channel-digest.js';

const NOW = new Date('2030-01-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);

const view = (over: Partial<DigestView> = {}): DigestView => ({
  lines: [{ actionType: 'payments.refund', waiting: 14, total: 14, oldestAt: ago(3 * 60_000 + 20_000) }],
  now: NOW,
  closed: false,
  ...over,
});

describe('the channel digest', () => {
  it('says how many wait and how old the oldest is, naming a single action type', () => {
    expect(digestHeadline(view())).toBe('14 × payments.refund waiting: oldest 3 min');
    const m = channelDigestMessage(view());
    expect(m.text).toBe('14 × payments.refund waiting: oldest 3 min');
    expect(JSON.stringify(m.blocks)).toContain('Decide them in App Home');
    expect(JSON.stringify(m.blocks)).not.toContain('"url"');
  });

  it('counts several action types, most first, with those handled, and links App Home when configured', () => {
    const m = channelDigestMessage(
      view({
        lines: [
          { actionType: 'crm.update', waiting: 2, total: 3, oldestAt: ago(40_000) },
          { actionType: 'payments.refund', waiting: 1_200, total: 1_250, oldestAt: ago(2 * 3_600_000 + 5 * 60_000) },
        ],
        appHomeUrl: 'slack://app?team=T0TEAM&id=A0APP&tab=home',
      }),
    );
    expect(m.text).toBe('1,202 approvals waiting: oldest 2 h 5 min');
    const text = JSON.stringify(m.blocks);
    expect(text).toContain('· 51 handled');
    expect(text.indexOf('payments.refund')).toBeLessThan(text.indexOf('crm.update'));
    expect(text).toContain('"url":"slack://app?team=T0TEAM&id=A0APP&tab=home"');
  });

  it('escapes what the agent named its action, in the text and the list', () => {
    const m = channelDigestMessage(view({ lines: [{ actionType: '<!channel> *pay* <https://evil|bank>', waiting: 3, total: 3, oldestAt: ago(1000) }] }));
    const all = m.text + JSON.stringify(m.blocks);
    expect(all).not.toMatch(/<!channel>|<https:/);
    expect(m.text).toContain('&lt;!channel&gt;');
  });

  it('lists ten action types and sums the rest, within Block Kit limits', () => {
    const lines = Array.from({ length: 25 }, (_, i) => ({ actionType: `type.${String(i).padStart(2, '0')}`, waiting: 1, total: 1, oldestAt: ago(5_000) }));
    const m = channelDigestMessage(view({ lines }));
    expect(JSON.stringify(m.blocks)).toContain('15 more approvals of 15 other action types');
    expect(m.blocks.length).toBeLessThanOrEqual(50);
  });

  it('says the burst is over once nothing waits', () => {
    const m = channelDigestMessage(view({ lines: [{ actionType: 'payments.refund', waiting: 0, total: 14, oldestAt: null }], closed: true }));
    expect(m.text).toBe('All 14 approvals from this burst handled');
    expect(JSON.stringify(m.blocks)).toContain('get a card of their own again');
  });
});
