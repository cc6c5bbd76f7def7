import { describe, expect, it } from 'vitest';
import { governanceReportMessages, type ReportAgent } from '../../../src/slack/cards/governance-report.js';

const agent = (i: number): ReportAgent => ({
  agentId: `agent-${String(i).padStart(3, '0')}`,
  requests: 120, actions: 110, errors: 3, spendMicros: 12_340_000, peakDayMicros: 2_000_000,
  byTier: { restricted: 10, supervised: 4 }, byTrigger: { low_confidence: { count: 5, approved: 5 } }, byRule: { 'policy.agents[0].actions[3].rules[0]': { count: 10, approved: 9 } },
  decisions: 14, p50Sec: 240, p90Sec: 1500, modeEvents: { mode_promoted: 1 },
  proposals: ['Budget: the peak day spent $2.00, 0.4% of the $500.00 daily cap; consider dailyUsd $4.00 (twice the peak).'],
});

describe('governance report message', () => {
  it('splits many agents over messages Slack accepts (50 blocks, ~12k characters), each agent once and in order', () => {
    const agents = Array.from({ length: 120 }, (_, i) => agent(i));
    const messages = governanceReportMessages('2026-10', agents, {});
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(m.blocks.length).toBeLessThanOrEqual(50);
      expect(JSON.stringify(m.blocks).length).toBeLessThanOrEqual(12_000);
    }
    const shown = messages.flatMap((m) => (m.blocks as Array<{ text?: { text?: string } }>).map((b) => /^\*`(agent-\d+)`\*/.exec(b.text?.text ?? '')?.[1]).filter(Boolean));
    expect(shown).toEqual(agents.map((a) => a.agentId));
    expect(messages[1]!.text).toBe(`Governance review for 2026-10 (part 2 of ${messages.length})`);
  });

  it('says so when no agent was active', () => {
    const [m] = governanceReportMessages('2026-10', [], {});
    expect(JSON.stringify(m!.blocks)).toContain('No agent activity in 2026-10.');
  });
});
