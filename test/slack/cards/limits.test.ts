import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KnownBlock } from '@slack/types';
import type { EscalationRow } from '../../../src/db/schema/escalations.js';
import type { AuditRecord } from '../../../src/domain/audit-query.js';
import type { Status } from '../../../src/domain/decision.js';
import { parseEscalation, type Escalation } from '../../../src/domain/escalation.js';
import type { Explanation, ExplanationSection } from '../../../src/domain/explanation.js';
import { MODES } from '../../../src/domain/modes.js';
import { createRedactor } from '../../../src/domain/redact.js';
import type { CountersignConfig } from '../../../src/domain/config.js';
import { parseConfig } from '../../../src/config/file.js';
import { budgetReport } from '../../../src/flow/budget-report.js';
import type { RouteOnCall } from '../../../src/flow/oncall.js';
import { createAgentFlags } from '../../../src/queue/agent-flags.js';
import { createBudgetStore } from '../../../src/queue/budget-store.js';
import { alertMessage } from '../../../src/slack/cards/alerts.js';
import { auditResultsMessage } from '../../../src/slack/cards/audit-results.js';
import { chainThreadMessage, type ChainNotice } from '../../../src/slack/cards/chain-message.js';
import { escalationCard } from '../../../src/slack/cards/escalation-card.js';
import { governanceReportMessages, type ReportAgent } from '../../../src/slack/cards/governance-report.js';
import { HOME_PAGE_SIZE, homeView } from '../../../src/slack/cards/home.js';
import { capMessage, capView, replyOf } from '../../../src/slack/cards/limits.js';
import { detailsModal, denyModal, reviewWrongModal } from '../../../src/slack/cards/modals.js';
import { proposalMessage } from '../../../src/slack/cards/mode-cards.js';
import { reviewTimerMessage, textMessage } from '../../../src/slack/cards/notices.js';
import { oncallDm } from '../../../src/slack/cards/oncall-dm.js';
import { sampleIncorrectModal, sampleProgressMessage, sampleReviewCard, sampleSummaryMessage, type SampleHeader } from '../../../src/slack/cards/sample-review.js';
import type { CardState } from '../../../src/slack/cards/view-model.js';
import { whyModal } from '../../../src/slack/cards/why-modal.js';
import { helpText } from '../../../src/slack/commands/index.js';
import { namedRoute, oncallSummary } from '../../../src/slack/commands/oncall.js';
import { outcomeReply } from '../../../src/slack/listeners/replies.js';
import { exampleConfigText } from '../../support/harness.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../../support/services.js';
import { HOSTILE_ID, expectValidMessage, expectValidView } from '../../support/slack-limits.js';

/*
 * Every card, modal, Home view and slash-command reply, fed hostile and
 * maximal agent input, stays within Slack's documented limits and renders
 * nothing the agent forged: no mention, broadcast, link, bidi override or
 * formatting.
 */

const parsed = parseEscalation(JSON.parse(readFileSync(new URL('../../../examples/escalation.json', import.meta.url), 'utf8')));
if (!parsed.ok) throw new Error('examples/escalation.json must be valid');
const EXAMPLE: Escalation = parsed.escalation;
const RUNS = { numRuns: 40 };
const AT = new Date('2026-11-20T10:00:00Z');
const UUID = '3b8e6f2a-1c4d-4e5f-8a9b-0c1d2e3f4a5b';
const DIGEST = 'a'.repeat(64);

/** What an attacker would try, and text that makes escaping and cutting work hard. */
const UNITS = [
  HOSTILE_ID, '<!channel>', '<!here>', '<!everyone>', '<@U0EVIL0001>', '<!subteam^SEVIL01>', '<#CEVIL0001>', '<https://evil.example|bank>', '<http://evil.example>',
  '@here', '@channel', '@here_', '*evil bold*', '_evil italic_', '~evil strike~', '`evil code`', '```', '&', '&amp;', '<', '>', '\u202E', '\u2066', '\u2069',
  '\u0000', '\u2028', '\n', '\n>quote', ':smile:', '😀', '👩‍👩‍👧', 'x', ' ', 'jane.doe@example.com', '*', '_', '~', '`',
];

/** At most `max` UTF-16 units, never ending in half a surrogate pair (the schema refuses lone surrogates). */
function cut(s: string, max: number): string {
  const out = s.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(out) ? out.slice(0, -1) : out;
}

/** Hostile text of at most `max` units: short mixes, or `max` units of one attack repeated. */
function hostile(max: number): fc.Arbitrary<string> {
  const mixed = fc.string({ unit: fc.oneof(fc.constantFrom(...UNITS), fc.string({ maxLength: 2 })), maxLength: 30 }).map((s) => cut(s, max));
  const maximal = fc.constantFrom(...UNITS).map((u) => cut(u.repeat(Math.ceil(max / u.length)), max));
  return fc.oneof(mixed, maximal).map((s) => s || 'x');
}

const actionType = fc.constantFrom('payments.refund', '_evil_._italic_', `${'a'.repeat(49)}.${'b'.repeat(50)}`, 'a-b.c_d');
const paramValue = fc.oneof(hostile(2000), fc.integer(), fc.dictionary(hostile(50), hostile(200), { maxKeys: 3 }));

const escalation: fc.Arbitrary<Escalation> = fc
  .record({
    id: hostile(200), name: hostile(200), model: hostile(200), promptVersion: hostile(200),
    tools: fc.dictionary(hostile(100), hostile(100), { maxKeys: 12 }),
    type: actionType, params: fc.dictionary(hostile(200), paramValue, { maxKeys: 30 }), summary: fc.option(hostile(300), { nil: undefined }),
    issueType: hostile(100), source: fc.option(hostile(200), { nil: undefined }), input: hostile(20_000), reasoning: hostile(20_000),
    attempted: hostile(20_000), failed: hostile(20_000), gathered: hostile(20_000), recommendation: hostile(20_000), executionId: hostile(200),
  })
  .map((r) =>
    // Cards show redacted requests: masking and escaping must compose.
    createRedactor().value({
      ...EXAMPLE,
      executionId: r.executionId,
      issueType: r.issueType,
      reasoning: r.reasoning,
      agent: { ...EXAMPLE.agent, id: r.id, name: r.name, model: r.model, promptVersion: r.promptVersion, toolVersions: r.tools },
      action: { ...EXAMPLE.action, type: r.type, params: r.params, ...(r.summary !== undefined ? { summary: r.summary } : {}) },
      trigger: { ...EXAMPLE.trigger, input: r.input, ...(r.source !== undefined ? { source: r.source } : {}) },
      handoff: { attempted: r.attempted, failed: r.failed, gathered: r.gathered, recommendation: r.recommendation },
    }),
  );

const STATUSES: Status[] = ['pending', 'approved', 'denied', 'allowed', 'expired', 'rejected'];
const cardState: fc.Arbitrary<CardState> = fc
  .record({
    e: escalation, status: fc.constantFrom(...STATUSES), reason: fc.option(hostile(2000), { nil: null }), route: hostile(63),
    why: fc.array(hostile(500), { maxLength: 8 }), review: fc.option(fc.constantFrom('pending' as const, 'ok' as const, 'wrong' as const), { nil: undefined }),
    note: fc.option(hostile(2000), { nil: null }), oncall: fc.boolean(), skippedWhy: hostile(100),
  })
  .map((r) => ({
    escalation: r.e, digest: DIGEST, route: r.route, deadline: AT, status: r.status, decidedBy: 'U0APPROVER1', decidedAt: AT, reason: r.reason, failSafe: false, whyHuman: r.why,
    ...(r.review ? { review: { state: r.review, by: 'U0APPROVER2', at: AT, note: r.note, due: AT } } : {}),
    ...(r.oncall ? { oncall: { route: r.route, scheduled: true, skipped: [{ user: 'U0PAYOPS001', why: r.skippedWhy }], approvers: ['U0APPROVER1'] } } : {}),
  }));

const header = (agentId: string | null, seed: string): SampleHeader => ({ sampleId: UUID, seed, agentId, percent: 5, windowFrom: AT, windowTo: AT, population: 800, size: 40 });

describe('every message builder, fed hostile and maximal agent text', () => {
  it('the approval card, in every state', () => {
    fc.assert(fc.property(cardState, (s) => expectValidMessage(escalationCard(s))), RUNS);
  });

  it('the batch-review card, its progress and its summary', () => {
    fc.assert(
      fc.property(cardState, hostile(200), hostile(2000), fc.boolean(), fc.array(hostile(200), { maxLength: 60 }), (card, agentId, text, judged, agents) => {
        const h = header(agentId, agentId);
        const verdict = judged ? { verdict: 'incorrect' as const, by: 'U0APPROVER2', at: AT, note: text } : undefined;
        expectValidMessage(sampleReviewCard({ sample: h, index: 1, card, outcome: { success: false, detail: text, at: AT }, ...(verdict ? { verdict } : {}) }));
        expectValidMessage(sampleProgressMessage(h, { reviewed: 3, incorrect: 1 }));
        expectValidMessage(sampleSummaryMessage(h, { reviewed: 40, incorrect: 2 }, agents.map((a) => ({ agentId: a, reviewed: 4, incorrect: 1 }))));
      }),
      RUNS,
    );
  });

  it('every alert: budget, pause (and after Resume), demotion, promotion proposal (and its outcomes), invalid config', () => {
    fc.assert(
      fc.property(hostile(200), hostile(2000), hostile(200), fc.constantFrom(...MODES), (agentId, text, scope, mode) => {
        expectValidMessage(alertMessage({ kind: 'budget_threshold', agentId, window: 'day', windowKey: 'k', level: 1, basis: 'cap', totalMicros: 5e8, capMicros: 5e8 }));
        expectValidMessage(alertMessage({ kind: 'agent_paused', agentId, reason: text }));
        expectValidMessage(alertMessage({ kind: 'agent_paused', agentId, reason: text }, { resumedBy: 'U0APPROVER1' }));
        expectValidMessage(alertMessage({ kind: 'mode_demoted', agentId, scope, from: mode, to: 'pre_action', reason: text, ownerId: null }));
        const proposal = { kind: 'mode_promotion_proposed' as const, agentId, proposalId: UUID, scope, from: mode, to: 'post_action' as const, actions: 100, errors: 1, bar: text };
        expectValidMessage(alertMessage(proposal));
        for (const status of ['accepted', 'declined', 'superseded'] as const) expectValidMessage(proposalMessage(proposal, { outcome: { status, by: 'U0APPROVER1' } }));
        expectValidMessage(alertMessage({ kind: 'config_invalid', error: text, keptVersion: scope }));
      }),
      RUNS,
    );
  });

  it('chain pings, on-call DMs and supervised-review reminders', () => {
    fc.assert(
      fc.property(hostile(200), hostile(200), hostile(63), hostile(300), fc.boolean(), cardState, fc.boolean(), (agentId, type, route, fallback, handoff, card, canDecide) => {
        const n: ChainNotice = {
          actionType: type, agentId, route, channel: 'C0PAYMENTS', urgency: 'critical', handoff, fallback,
          mentions: [{ kind: 'user', id: 'U0PAYOPS001', role: 'primary' }, { kind: 'usergroup', id: 'S0FINANCE1' }],
          step: { number: 2, of: 3, round: 1, rounds: 2 }, next: { at: AT, failSafe: false },
        };
        expectValidMessage(chainThreadMessage(n));
        for (const status of ['pending', 'approved'] as const) {
          expectValidMessage(oncallDm({ card: { ...card, status }, route, channel: 'C0PAYMENTS', permalink: 'https://example.slack.com/archives/C0PAYMENTS/p1', canDecide, handoff, step: n.step, next: n.next }));
        }
        for (const step of ['remind', 'escalate'] as const) expectValidMessage(reviewTimerMessage({ step, reviewers: '<@U0APPROVER1>', actionType: type, agentId }));
      }),
      RUNS,
    );
  });

  it('the monthly governance report, each of its messages', () => {
    const agent = hostile(200).map(
      (agentId): ReportAgent => ({
        agentId, requests: 10, actions: 8, errors: 1, spendMicros: 1e6, peakDayMicros: 1e6, byTier: { [agentId]: 3 }, byTrigger: { low_confidence: { count: 2, approved: 1 } },
        byRule: { [agentId]: { count: 5, approved: 5 } }, decisions: 4, p50Sec: 60, p90Sec: 600, modeEvents: {}, proposals: [],
      }),
    );
    fc.assert(
      fc.property(fc.array(agent, { maxLength: 80 }), (agents) => {
        for (const m of governanceReportMessages('2026-10', agents, {})) expectValidMessage(m);
      }),
      { numRuns: 15 },
    );
  });

  it('a page of audit search results: twenty records of the longest ids still fit', () => {
    const record = fc.record({ agent: hostile(200), exec: hostile(200), reason: hostile(2000), error: hostile(2000) }).map(
      (r): AuditRecord => ({
        escalation_id: UUID, execution_id: r.exec, created_at: AT.toISOString(), agent_id: r.agent, action_type: `${'a'.repeat(49)}.${'b'.repeat(50)}`, status: 'denied',
        tier: 'restricted', route: 'default', policy_version: 'v1', policy_rule: null, decided_by: 'U0APPROVER1', decided_at: AT.toISOString(), decision_reason: r.reason,
        outcome: 'failure', outcome_at: AT.toISOString(), outcome_error: r.error, cost_tokens: 1, cost_usd: 1,
      }),
    );
    fc.assert(
      fc.property(fc.array(record, { minLength: 20, maxLength: 20 }), hostile(1000), (records, queryText) => {
        const m = auditResultsMessage({ queryText, records, page: 2, nextCursor: 'c'.repeat(80) });
        expectValidMessage(m);
        // Every record stays on its page, so the cursor of the last one is still right.
        expect(m.blocks.filter((b) => JSON.stringify(b).includes(UUID))).toHaveLength(20);
      }),
      { numRuns: 20 },
    );
  });

  it('slash-command replies that echo names: routes, on call, refusals, help', () => {
    const config = { routes: [{ name: HOSTILE_ID }, { name: 'default' }] } as unknown as CountersignConfig;
    fc.assert(
      fc.property(hostile(200), (name) => {
        // A name of a configured route (the hostile one is) is found, not echoed back as unknown.
        const answer = namedRoute(config, name);
        if (typeof answer === 'string') expectValidMessage(replyOf(answer));
        else expect(answer.name).toBe(name);
        const shift = { user: 'U0PAYOPS001', source: { kind: 'override' as const, covers: null }, from: AT, to: AT, schedule: name };
        const o: RouteOnCall = { route: name, at: AT, scheduled: true, candidates: [shift], primary: shift, secondary: shift, next: { at: AT, shift } };
        expectValidMessage(replyOf(oncallSummary(o)));
        expectValidMessage(replyOf(outcomeReply({ kind: 'refused', reason: 'not_an_approver', route: name })!));
        expectValidMessage(replyOf(outcomeReply({ kind: 'refused', reason: 'no_route', route: name })!));
      }),
      RUNS,
    );
    expectValidMessage(replyOf(helpText()));
  });

  describe('/countersign budget, against real Redis counters and pause flags', () => {
    let redis: Redis;
    const prefix = uniqueName('limits');
    beforeAll(() => {
      redis = new Redis(REDIS_URL);
    });
    afterAll(async () => {
      await dropRedisPrefix(redis, prefix);
      await redis.quit();
    });

    it('for every agent of a policy whose ids are hostile, and for one named', async () => {
      const example = parseConfig(exampleConfigText, 'example').config;
      await fc.assert(
        fc.asyncProperty(fc.array(hostile(200), { minLength: 1, maxLength: 40 }), async (ids) => {
          const config = structuredClone(example);
          const template = config.policy!.agents[0]!;
          config.policy!.agents = ids.map((id) => ({ ...template, id }));
          const ports = { config: { current: () => ({ config, version: 'v1' }) }, budgets: createBudgetStore(redis, prefix), flags: createAgentFlags(redis, prefix), now: () => AT };
          expectValidMessage(replyOf(await budgetReport(ports, undefined)));
          expectValidMessage(replyOf(await budgetReport(ports, ids[0])));
          expectValidMessage(replyOf(await budgetReport(ports, `${ids[0]}-unknown`)));
        }),
        { numRuns: 15 },
      );
    });
  });
});

describe('every view builder, fed hostile and maximal agent text', () => {
  it('the App Home, with a full page of approvals between two others, reviews, on-call lines and a hundred agents, none cut', () => {
    fc.assert(
      fc.property(fc.array(cardState, { minLength: HOME_PAGE_SIZE, maxLength: HOME_PAGE_SIZE }), fc.array(hostile(200), { maxLength: 100 }), hostile(63), (states, agents, route) => {
        const pending = states.map((s, i) => ({ row: { id: UUID.replace(/^.{8}/, String(i).padStart(8, '0')), digest: DIGEST, route, deadline: AT } as EscalationRow, escalation: s.escalation }));
        const view = homeView(pending, { page: 1, total: HOME_PAGE_SIZE * 3 }, {
          reviews: agents.slice(0, 10).map((a) => ({ sampleId: UUID, agentId: a, size: 40, reviewed: 3, incorrect: 1, channel: 'C0REFUNDS1', createdAt: AT })),
          oncall: [{ route, role: 'primary', from: AT, to: AT }, { route, role: 'next', from: AT, to: null }],
          agents: agents.map((agentId, i) => ({ agentId, mode: MODES[i % MODES.length]!, actions: 10, errors: 1 })),
        });
        expectValidView(view as unknown as Record<string, unknown>);
        const text = JSON.stringify(view.blocks);
        // Every approval keeps its buttons, the paging both ways, and nothing was shortened away.
        expect(view.blocks.filter((b) => b.block_id?.startsWith('home:') && b.block_id !== 'home:paging')).toHaveLength(HOME_PAGE_SIZE);
        expect(text).toContain('← Newer');
        expect(text).toContain('Older →');
        expect(text).not.toContain('Shortened to fit in Slack');
      }),
      { numRuns: 10 },
    );
  });

  it('the Details, Deny, Mark wrong and Mark incorrect modals', () => {
    fc.assert(
      fc.property(cardState, (s) => {
        const meta = { id: UUID, digest: DIGEST, channel: 'C0REFUNDS1' };
        for (const v of [detailsModal(s), denyModal(meta, s.escalation.action.type), reviewWrongModal(meta, s.escalation.action.type), sampleIncorrectModal({ sampleId: UUID, escalationId: UUID, channel: 'C0REFUNDS1' }, s.escalation.action.type)]) {
          expectValidView(v as unknown as Record<string, unknown>);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('the Why? modal', () => {
    const HEADINGS: ExplanationSection['heading'][] = ['Input', 'Reasoning', 'Policy rule and triggers', 'Who was paged', 'Who decided, and why', 'Outcome'];
    const explanation = fc.record({ title: hostile(300), lines: fc.array(hostile(20_000), { maxLength: 12 }), exec: hostile(200) }).map(
      (r): Explanation => ({ escalationId: UUID, executionId: r.exec, title: r.title, status: 'denied', sections: HEADINGS.map((heading) => ({ heading, lines: r.lines })) }),
    );
    fc.assert(fc.property(explanation, (x) => expectValidView(whyModal(x) as unknown as Record<string, unknown>)), { numRuns: 20 });
  });
});

describe('the cap every builder ends with', () => {
  const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

  it('shortens the longest texts first and keeps the buttons, so no message nears msg_blocks_too_long', () => {
    const button: KnownBlock = { type: 'actions', elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'Approve' }, value: 'v' }] };
    const m = capMessage({ text: 'fallback', blocks: [section('a'.repeat(2900)), section('b'.repeat(2900)), section('c'.repeat(2900)), section('d'.repeat(2900)), section('e'.repeat(2900)), button] });
    expectValidMessage(m);
    expect(m.blocks).toHaveLength(6);
    expect(m.blocks.at(-1)).toEqual(button);
  });

  it('drops blocks past fifty and says so, keeping the buttons', () => {
    const button: KnownBlock = { type: 'actions', elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'Next' }, value: 'v' }] };
    const m = capMessage({ text: 'fallback', blocks: [...Array.from({ length: 60 }, (_, i) => section(`line ${i}`)), button] });
    expectValidMessage(m);
    expect(m.blocks).toHaveLength(50);
    expect(m.blocks).toContainEqual(button);
    expect(JSON.stringify(m.blocks.at(-1))).toContain('Shortened to fit in Slack');
  });

  it('never cuts inside a mention or a date the bot wrote', () => {
    const m = capMessage({ text: `${'x'.repeat(2980)} <@U0APPROVER1> <!date^1700000000^{time}|10:00 UTC>`, blocks: [section('y')] });
    expect(m.text).toMatch(/x <@U0APPROVER1> …$/);
  });

  it('cuts a modal title, submit and close label to 24 characters, and a Home view to 100 blocks', () => {
    const v = capView({ type: 'modal', title: { type: 'plain_text', text: 'A title far longer than Slack allows' }, submit: { type: 'plain_text', text: 'Submit this long label now' }, blocks: [] });
    expectValidView(v as unknown as Record<string, unknown>);
    const home = capView({ type: 'home', blocks: Array.from({ length: 120 }, (_, i) => section(`line ${i}`)) });
    expect(home.blocks).toHaveLength(100);
  });

  it('gives a text-only reply no blocks, and a one-section notice its text as fallback', () => {
    expect(replyOf('hello')).toEqual({ text: 'hello' });
    expect(textMessage('hello')).toEqual({ text: 'hello', blocks: [section('hello')] });
  });
});
