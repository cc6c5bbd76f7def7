import { readFileSync } from 'node:fs';
import { stringify as formEncode } from 'node:querystring';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EscalationRow } from '../../../src/db/schema/escalations.js';
import { requestDigest } from '../../../src/domain/digest.js';
import { parseEscalation, type Escalation } from '../../../src/domain/escalation.js';
import type { Status } from '../../../src/domain/decision.js';
import { escapeMrkdwn } from '../../../src/domain/slack-text.js';
import { cardStateOf } from '../../../src/flow/card-state.js';
import { escalationCard } from '../../../src/slack/cards/escalation-card.js';
import { denyModal, detailsModal, parseDenyMetadata } from '../../../src/slack/cards/modals.js';
import {
  ACTION_APPROVE,
  ACTION_DENY,
  ACTION_DETAILS,
  VIEW_DENY_REASON,
  parseButtonValue,
  type CardState,
} from '../../../src/slack/cards/view-model.js';
import { parseHandoffValue } from '../../../src/slack/cards/handoff.js';

const parsed = parseEscalation(JSON.parse(readFileSync(new URL('../../../examples/escalation.json', import.meta.url), 'utf8')));
if (!parsed.ok) throw new Error('examples/escalation.json must be valid');
const EXAMPLE: Escalation = parsed.escalation;
const DIGEST = requestDigest(EXAMPLE);
const CREATED = new Date('2029-12-31T23:00:00Z');
const DEADLINE = new Date('2030-01-01T00:00:00Z');
const DECIDED = new Date('2029-12-31T23:14:00Z');

/** A stored row as the database would hand it to cardStateOf. */
function rowOf(e: Escalation, over: Partial<EscalationRow> = {}): EscalationRow {
  return {
    id: e.id,
    status: 'pending',
    digest: requestDigest(e),
    executionId: e.executionId,
    agentId: e.agent.id,
    agentOwner: e.agent.owner,
    actionType: e.action.type,
    issueType: e.issueType,
    urgency: e.urgency,
    route: 'refunds',
    channel: 'C0REFUNDS1',
    request: e,
    errors: null,
    callbackUrl: e.callback?.url ?? null,
    deadline: DEADLINE,
    cardState: 'posted',
    cardTs: '1735689600.000100',
    digestId: null,
    decidedBy: null,
    decidedOnBehalfOf: null,
    decidedAt: null,
    decisionReason: null,
    approvedParams: null,
    approvedDigest: null,
    failSafe: false,
    policyVersion: '005519719987d794',
    notifiedAt: null,
    cardLeaseUntil: null,
    approvalsRequired: 1,
    approvalGroups: null,
    approvals: [],
    tier: null,
    policyRule: null,
    policyReason: null,
    triggers: null,
    decisionCode: null,
    mode: null,
    reviewState: 'none',
    reviewedBy: null,
    reviewedAt: null,
    reviewNote: null,
    createdAt: CREATED,
    ...over,
  };
}

type Block = {
  type: string;
  block_id?: string;
  text?: { type: string; text: string };
  fields?: { type: string; text: string }[];
  elements?: { type: string; action_id?: string; value?: string; text?: string | { type: string; text: string } }[];
};

const cardOf = (e: Escalation, over: Partial<EscalationRow> = {}) => escalationCard(cardStateOf(rowOf(e, over)));
const blocksOf = (m: { blocks: unknown[] }) => m.blocks as Block[];
const actionsOf = (m: { blocks: unknown[] }) => blocksOf(m).filter((b) => b.type === 'actions');
/** Every string anywhere in a value: what Slack would parse or show. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (typeof v === 'object' && v !== null) Object.values(v).forEach((x) => strings(x, out));
  return out;
}
const allText = (v: unknown) => strings(v).join('\n');

const decided = (status: Status, extra: Partial<EscalationRow> = {}): Partial<EscalationRow> => ({
  status,
  decidedBy: status === 'expired' ? null : 'U0APPROVER1',
  decidedAt: DECIDED,
  failSafe: status === 'expired',
  ...extra,
});

describe('escalationCard', () => {
  describe('while pending', () => {
    const card = cardOf(EXAMPLE);

    it('has one actions block with Approve, Deny and Details', () => {
      const actions = actionsOf(card);
      expect(actions).toHaveLength(1);
      const buttons = actions[0]!.elements!.filter((b) => b.type === 'button');
      expect(buttons.map((b) => b.action_id)).toEqual([ACTION_APPROVE, ACTION_DENY, ACTION_DETAILS]);
      expect(buttons.map((b) => (b.text as { text: string }).text)).toEqual(['Approve', 'Deny…', 'Details']);
      expect(buttons.every((b) => b.type === 'button')).toBe(true);
    });

    it('binds every button to this escalation’s id and the digest of the request shown', () => {
      for (const b of actionsOf(card)[0]!.elements!.filter((el) => el.type === 'button')) {
        expect(parseButtonValue(b.value)).toEqual({ id: EXAMPLE.id, digest: DIGEST });
      }
    });

    it('ends the actions with one overflow of hand-offs, each option bound to the escalation and digest', () => {
      const menu = actionsOf(card)[0]!.elements!.at(-1) as unknown as { type: string; action_id: string; options: Array<{ text: { text: string }; value: string }> };
      expect(menu).toMatchObject({ type: 'overflow', action_id: 'countersign.handoff' });
      expect(menu.options.map((o) => o.text.text)).toEqual(['Snooze 30 min', 'Reassign…']);
      expect(menu.options.map((o) => parseHandoffValue(o.value))).toEqual([
        { choice: 'snooze', id: EXAMPLE.id, digest: DIGEST },
        { choice: 'reassign', id: EXAMPLE.id, digest: DIGEST },
      ]);
    });

    it('gives the actions block an id naming the escalation, within 255 characters', () => {
      const blockId = actionsOf(card)[0]!.block_id!;
      expect(blockId).toContain(EXAMPLE.id);
      expect(blockId.length).toBeLessThanOrEqual(255);
    });

    it('shows the summary as the header, and the agent, its owner, the action, params, reasoning and handoff', () => {
      const text = allText(card.blocks);
      expect(blocksOf(card)[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: 'Refund $340.00 for order #4521' } });
      expect(text).toContain('Support Agent');
      expect(text).toContain('<@U0AGENTOWNR>');
      expect(text).toContain('`payments.refund`');
      expect(text).toContain('*irreversible*');
      expect(text).toContain('0.62');
      expect(text).toContain('$0.41');
      expect(text).toContain('18,250 tokens');
      expect(text).toContain('*Key params:* *orderId* #4521 · ');
      expect(text).toContain('outside the 30-day return window');
      expect(text).toContain('Approve the refund based on the defect claim.');
      expect(text).toContain('decide by <!date^');
      expect(text).toContain(`<!date^${DEADLINE.getTime() / 1000}^`);
    });

    it('masks PII from the request on the card (the customer’s email)', () => {
      const text = allText(card);
      expect(text).not.toContain('jane.doe@example.com');
      expect(text).toContain('example.com');
    });

    it('has fallback text for notifications that says approval is needed', () => {
      expect(card.text).toBe('Approval needed: Support Agent wants to run payments.refund');
    });
  });

  describe.each<[Status, string]>([
    ['approved', 'Approved'],
    ['denied', 'Denied'],
    ['expired', 'Expired'],
    ['rejected', 'Rejected'],
  ])('once %s', (status, word) => {
    const card = cardOf(EXAMPLE, decided(status, status === 'denied' ? { decisionReason: 'Needs a manager' } : {}));

    it('has no decision buttons left, only Why?, bound to this escalation and request', () => {
      expect(actionsOf(card)).toEqual([]);
      const buttons = blocksOf(card).flatMap((b) => ((b as { accessory?: { type: string; action_id: string; value: string } }).accessory ?? []) as Array<{ type: string; action_id: string; value: string }>);
      expect(buttons.map((b) => b.action_id)).toEqual(['countersign.why']);
      expect(parseButtonValue(buttons[0]!.value)).toEqual({ id: EXAMPLE.id, digest: DIGEST });
      expect(JSON.stringify(card.blocks).match(/"button"/g)).toHaveLength(1);
    });

    it(`says ${word}, and no longer asks for a decision`, () => {
      expect(allText(card.blocks)).toContain(`*${word}*`);
      expect(allText(card.blocks)).not.toContain('Awaiting your decision');
      expect(card.text.startsWith(`${word}:`)).toBe(true);
    });
  });

  it.each<Status>(['approved', 'denied'])('once %s, shows who decided and when', (status) => {
    const text = allText(cardOf(EXAMPLE, decided(status)).blocks);
    expect(text).toContain('by <@U0APPROVER1>');
    expect(text).toContain(`<!date^${DECIDED.getTime() / 1000}^`);
  });

  it('once denied, shows the reason, quoted and escaped', () => {
    const card = cardOf(EXAMPLE, decided('denied', { decisionReason: 'Over the limit <!channel>\nask <@U999> first' }));
    const text = allText(card.blocks);
    expect(text).toContain('>Over the limit &lt;!channel&gt;\n>ask &lt;@U999&gt; first');
    expect(text).not.toContain('<!channel>');
    expect(text).not.toContain('<@U999>');
  });

  it('once expired, names no decider but the time and the fail-safe deny', () => {
    const text = allText(cardOf(EXAMPLE, decided('expired')).blocks);
    expect(text).toContain(`*Expired* at <!date^${DECIDED.getTime() / 1000}^`);
    expect(text).toContain('fail-safe');
    expect(text).toContain('denied');
    expect(text).not.toContain('<@U0APPROVER1>');
  });

  describe('with a quorum', () => {
    const vote = (user: string, groups: string[] = []) => ({ user, at: '2029-12-31T23:10:00Z', groups });

    it('shows "1 of 2 approvals" with who, and keeps its buttons until the quorum is reached', () => {
      const card = cardOf(EXAMPLE, { approvalsRequired: 2, approvals: [vote('U0APPROVER1')] });
      const text = allText(card.blocks);
      expect(text).toContain('*1 of 2 approvals*: <@U0APPROVER1> · needs 1 more approver');
      expect(actionsOf(card)).toHaveLength(1);
    });

    it('never counts a vote of the owner on the card', () => {
      expect(allText(cardOf(EXAMPLE, { approvalsRequired: 2, approvals: [vote('U0AGENTOWNR')] }).blocks)).toContain('*0 of 2 approvals* · needs 2 more approvers');
    });

    it('names the groups still missing', () => {
      const card = cardOf(EXAMPLE, { approvalsRequired: 2, approvalGroups: ['S0FINANCE1', 'S0RISK0001'], approvals: [vote('U0APPROVER1', ['S0FINANCE1'])] });
      expect(allText(card.blocks)).toContain('*1 of 2 approvals*: <@U0APPROVER1> (<!subteam^S0FINANCE1>) · needs 1 more approval, from a member of <!subteam^S0RISK0001>');
    });

    it('once approved, names every approver', () => {
      const card = cardOf(EXAMPLE, decided('approved', { decidedBy: 'U0APPROVER2', approvalsRequired: 2, approvals: [vote('U0APPROVER1'), vote('U0APPROVER2')] }));
      expect(allText(card.blocks)).toContain('*Approved* by <@U0APPROVER1>, <@U0APPROVER2> (2 of 2) at ');
      expect(actionsOf(card)).toHaveLength(0);
    });

    it('once denied or expired, says how far the approvals got', () => {
      const partial = { approvalsRequired: 3, approvals: [vote('U0APPROVER1')] };
      expect(allText(cardOf(EXAMPLE, decided('denied', { ...partial, decidedBy: 'U0APPROVER2' })).blocks)).toContain('(after *1 of 3 approvals*: <@U0APPROVER1>)');
      expect(allText(cardOf(EXAMPLE, decided('expired', partial)).blocks)).toContain('denied) (after *1 of 3 approvals*: <@U0APPROVER1>).');
    });
  });

  it('escapes mention and link injection from every agent text it shows', () => {
    const evil = '<!channel> @here <@U123> <https://evil.example|bank> <!subteam^S1>';
    const e = structuredClone(EXAMPLE);
    e.agent.name = evil;
    e.agent.id = evil;
    e.action.summary = evil;
    e.action.params = { [evil]: evil };
    e.issueType = evil;
    e.trigger.source = evil;
    e.executionId = evil;
    e.reasoning = evil;
    e.handoff = { attempted: evil, failed: evil, gathered: evil, recommendation: evil };
    const card = cardOf(e);
    const text = allText(card);
    for (const bad of ['<!channel>', '<@U123>', '<https://', '<!subteam', '@here']) expect(text).not.toContain(bad);
    expect(text).toContain('&lt;!channel&gt;');
  });

  it('never turns a spared handle like @here_team into a bare @here by cutting it short', () => {
    // The card's reasoning excerpt is cut at 280 with an ellipsis: 274 + 5 puts the cut right after `@here`.
    const e = structuredClone(EXAMPLE);
    e.reasoning = `${'a'.repeat(274)}@here_team`;
    const text = allText(cardOf(e).blocks);
    expect(text).toContain('a…');
    expect(text).not.toMatch(/@here\b/);
  });

  it.each(['', '   ', '\u0000\u202e'])('falls back to "agent wants to run action" as the header when the summary is blank (%j)', (summary) => {
    const e = structuredClone(EXAMPLE);
    e.action.summary = summary;
    expect(blocksOf(cardOf(e))[0]!.text!.text).toBe('Support Agent wants to run payments.refund');
  });

  describe('fallback text', () => {
    it('never splits an emoji, so it can be form-encoded for chat.postMessage', () => {
      // 17 + 56 × 5 + 2 = 299: the 300-character cut would land inside the emoji.
      const e = structuredClone(EXAMPLE);
      e.agent.name = `${'&'.repeat(56)}ab😀`;
      const card = cardOf(e);
      expect(card.text.length).toBeLessThanOrEqual(300);
      expect(card.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      expect(() => formEncode({ text: card.text })).not.toThrow();
    });

    it('never ends in half an entity', () => {
      const e = structuredClone(EXAMPLE);
      e.agent.name = '&'.repeat(200);
      expect(cardOf(e).text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    });
  });
});

// ---------------------------------------------------------------------------
// Properties: whatever an agent sends, the card fits Block Kit and forges nothing.

const INJECTIONS = [
  '<!channel>', '<!here>', '<!everyone>', '<!subteam^S0FINANCE1>', '<@U123>', '<@W0GRID>', '<#C0GENERAL1>',
  '<https://evil.example|bank.example>', '<mailto:a@b.c|support>', '@channel', '@here', '@everyone', '<', '>', '&',
  '&lt;', '&amp;', '|', '*', '_', '`', '```', '\n', '\r\n', '\t', '\u0000', '\u202e', '\u2066', '😀', '👩‍👩‍👧', '🇫🇷',
  'é', 'e\u0301', '中文', 'ﷺ', '"', '\\', '4111 1111 1111 1111', 'jane.doe@example.com', '+1 415-555-0100',
];
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
);
const piece = fc.string({ unit, maxLength: 24 });

/** Cut to `max` code units without leaving half a surrogate pair. */
function cap(s: string, max: number): string {
  const cut = s.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/** Agent text up to `max` units: short and hostile, or huge (a hostile piece repeated to the limit). */
const text = (max: number, min = 0) =>
  fc
    .oneof(
      { weight: 2, arbitrary: piece },
      { weight: 1, arbitrary: fc.tuple(piece, fc.integer({ min: 1, max: 20_000 })).map(([p, n]) => (p || 'x').repeat(n)) },
      { weight: 1, arbitrary: fc.constant('x'.repeat(max)) },
    )
    .map((s) => cap(s, max))
    .filter((s) => s.length >= min);

const slackUser = fc.stringMatching(/^[UW][A-Z0-9]{2,12}$/);
const jsonLeaf = fc.oneof(text(500), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null));
const paramValue = fc.oneof(
  { weight: 3, arbitrary: jsonLeaf },
  { weight: 1, arbitrary: fc.array(jsonLeaf, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.dictionary(text(50, 1), jsonLeaf, { maxKeys: 5 }) },
);

const escalationArb: fc.Arbitrary<Escalation> = fc.record({
  version: fc.constant(1 as const),
  id: fc.uuid(),
  agent: fc.record({
    id: text(200, 1),
    name: text(200, 1),
    owner: slackUser,
    model: text(200, 1),
    modelVersion: text(200, 1),
    promptVersion: text(200, 1),
    toolVersions: fc.dictionary(text(100, 1), text(100), { maxKeys: 8 }),
  }),
  executionId: text(200, 1),
  action: fc.record(
    {
      type: fc.stringMatching(/^[a-z0-9_-]{1,20}(\.[a-z0-9_-]{1,20}){1,3}$/),
      params: fc.dictionary(text(200), paramValue, { maxKeys: 200 }),
      reversible: fc.boolean(),
      summary: text(300),
    },
    { requiredKeys: ['type', 'params', 'reversible'] },
  ),
  issueType: text(100, 1),
  urgency: fc.constantFrom('low', 'normal', 'high', 'critical'),
  trigger: fc.record(
    { kind: fc.constantFrom('user_request', 'schedule', 'upstream_agent', 'other'), source: text(200), input: text(20_000) },
    { requiredKeys: ['kind', 'input'] },
  ),
  reasoning: text(20_000),
  confidence: fc.double({ min: 0, max: 1, noNaN: true }),
  handoff: fc.record({ attempted: text(20_000), failed: text(20_000), gathered: text(20_000), recommendation: text(20_000) }),
  cost: fc.record({ tokens: fc.nat(), usd: fc.double({ min: 0, max: 1_000_000, noNaN: true }) }),
  labels: fc.dictionary(text(100), text(200), { maxKeys: 5 }),
  conflictingInformation: fc.boolean(),
});

const rowArb = fc
  .tuple(
    escalationArb,
    fc.constantFrom<Status>('pending', 'approved', 'denied', 'expired', 'rejected'),
    slackUser,
    text(2000),
    fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
  )
  .map(([e, status, decider, reason, at]) =>
    rowOf(
      e,
      status === 'pending'
        ? {}
        : { status, decidedBy: status === 'expired' ? null : decider, decidedAt: at, decisionReason: status === 'denied' ? reason || null : null },
    ),
  );

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Every `<` is one we wrote: the owner's or the decider's mention, or a date.
 * Anything else (`<!channel>`, `<@U123>`, `<https://…|…>`) was forged by agent text.
 */
function expectNothingForged(v: unknown, allowedUsers: (string | null)[]): void {
  for (const s of strings(v)) {
    for (const m of s.matchAll(/<[^>]*>?/g)) {
      const ok =
        allowedUsers.some((u) => u !== null && m[0] === `<@${u}>`) ||
        /^<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC>$/.test(m[0]);
      expect(ok, `forged ${JSON.stringify(m[0])} in ${JSON.stringify(s.slice(0, 200))}`).toBe(true);
    }
    expect(s).not.toMatch(/@(channel|here|everyone)\b/i);
  }
}

describe('escalationCard, for any escalation an agent can send', () => {
  it('respects every Block Kit limit and forges no mention or link', () => {
    fc.assert(
      fc.property(rowArb, (row) => {
        const state = cardStateOf(row);
        const card = escalationCard(state);
        const blocks = blocksOf(card);

        expect(blocks.length).toBeLessThanOrEqual(50);
        expect(JSON.stringify(card.blocks).length).toBeLessThanOrEqual(13_000);
        for (const b of blocks) {
          if (b.block_id !== undefined) expect(b.block_id.length).toBeLessThanOrEqual(255);
          if (b.type === 'header') {
            expect(b.text!.type).toBe('plain_text');
            expect(b.text!.text.length).toBeGreaterThan(0);
            expect(b.text!.text.length).toBeLessThanOrEqual(150);
          }
          if (b.type === 'section') {
            if (b.text) {
              expect(b.text.text.length).toBeGreaterThan(0);
              expect(b.text.text.length).toBeLessThanOrEqual(3000);
            }
            expect(b.fields?.length ?? 0).toBeLessThanOrEqual(10);
            for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
          }
          if (b.type === 'context') {
            expect(b.elements!.length).toBeLessThanOrEqual(10);
            for (const el of b.elements!) expect((el.text as string).length).toBeLessThanOrEqual(3000);
          }
          if (b.type === 'actions') {
            expect(b.elements!.length).toBeLessThanOrEqual(25);
            for (const el of b.elements!) {
              expect(el.action_id!.length).toBeLessThanOrEqual(255);
              // An overflow's options: at most 5, values within 150 characters.
              const options = (el as { options?: Array<{ value: string }> }).options;
              if (el.type === 'overflow') for (const o of options!) expect(o.value.length).toBeLessThanOrEqual(150);
              if (el.type !== 'button') continue;
              expect(el.value!.length).toBeLessThanOrEqual(2000);
              expect((el.text as { text: string }).text.length).toBeLessThanOrEqual(75);
            }
          }
        }

        // What the human decides on is always there, whatever else had to be cut.
        if (row.status === 'pending') {
          expect(actionsOf(card)).toHaveLength(1);
          for (const b of actionsOf(card)[0]!.elements!.filter((el) => el.type === 'button')) expect(parseButtonValue(b.value)).toEqual({ id: row.id, digest: row.digest });
        } else {
          expect(actionsOf(card)).toEqual([]);
        }
        expect(allText(blocks)).toContain('*Recommendation:*');
        expect(allText(blocks)).toContain(`<@${state.escalation.agent.owner}>`);

        expectNothingForged(card, [row.agentOwner, row.decidedBy]);
        // Cuts never leave half a character, and Slack's form encoding accepts the text.
        expect(strings(card).some((s) => LONE_SURROGATE.test(s))).toBe(false);
        expect(() => formEncode({ text: card.text, blocks: JSON.stringify(card.blocks) })).not.toThrow();
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the owner’s mention intact: redaction never touches a Slack id', () => {
    fc.assert(
      fc.property(slackUser, (owner) => {
        const e = { ...structuredClone(EXAMPLE), agent: { ...EXAMPLE.agent, owner } };
        expect(allText(cardOf(e).blocks)).toContain(`<@${owner}>`);
      }),
      { numRuns: 300 },
    );
  });
});

describe('detailsModal', () => {
  const LONG_TITLES = ['Params', 'Reasoning', 'Attempted', 'Failed', 'Gathered', 'Recommendation'];

  /** What the sections after the facts must spell out, in order, when nothing was cut. */
  function expectedText(s: CardState): string {
    const e = s.escalation;
    const part = (title: string, t: string) => `*${title}*\n${escapeMrkdwn(t) || '—'}`;
    return [
      part('Params', JSON.stringify(e.action.params, null, 2)),
      part(`Trigger (${e.trigger.kind}${e.trigger.source ? `, ${escapeMrkdwn(e.trigger.source)}` : ''})`, e.trigger.input),
      part('Reasoning', e.reasoning),
      part('Attempted', e.handoff.attempted),
      part('Failed', e.handoff.failed),
      part('Gathered', e.handoff.gathered),
      part('Recommendation', e.handoff.recommendation),
    ].join('');
  }

  it('shows every part of the example in full, with a title that fits', () => {
    const state = cardStateOf(rowOf(EXAMPLE));
    const modal = detailsModal(state) as { type: string; title: { text: string }; blocks: Block[] };
    expect(modal.type).toBe('modal');
    expect(modal.title.text.length).toBeLessThanOrEqual(24);
    const text = allText(modal.blocks);
    for (const title of LONG_TITLES) expect(text).toContain(`*${title}*`);
    expect(text).toContain(EXAMPLE.reasoning);
    expect(text).toContain(DIGEST);
    expect(text).toContain('<@U0AGENTOWNR>');
  });

  it('keeps 20,000 characters of reasoning whole, across several sections', () => {
    const e = structuredClone(EXAMPLE);
    e.reasoning = Array.from({ length: 2000 }, (_, i) => `step${i % 10} ok.`).join(' ').slice(0, 20_000);
    const state = cardStateOf(rowOf(e));
    const modal = detailsModal(state) as { blocks: Block[] };
    const sections = modal.blocks.slice(1).map((b) => b.text!.text);
    expect(sections.join('')).toBe(expectedText(state));
    expect(sections.filter((t) => t.startsWith('*Reasoning*')).length).toBe(1);
    expect(modal.blocks.length).toBeGreaterThan(8);
  });

  it('keeps a part’s heading when its text is only control characters, which escaping removes', () => {
    const e = structuredClone(EXAMPLE);
    e.reasoning = '\u0000\u0007';
    const text = allText(detailsModal(cardStateOf(rowOf(e))));
    expect(text).toContain('*Reasoning*\n—');
  });

  it('escapes injection in the trigger source, shown in a section title', () => {
    const e = structuredClone(EXAMPLE);
    e.trigger.source = '<https://evil.example|zendesk ticket 1> <!channel>';
    const text = allText(detailsModal(cardStateOf(rowOf(e))));
    expect(text).not.toContain('<https://');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;https://evil.example|zendesk ticket 1&gt;');
  });

  it('for any escalation: at most 100 blocks, sections within 3000, nothing forged, and all text kept when it fits', () => {
    fc.assert(
      fc.property(rowArb, (row) => {
        const state = cardStateOf(row);
        const modal = detailsModal(state) as {
          title: { text: string };
          close: { text: string };
          blocks: Block[];
        };
        expect(modal.title.text.length).toBeLessThanOrEqual(24);
        expect(modal.close.text.length).toBeLessThanOrEqual(24);
        expect(modal.blocks.length).toBeLessThanOrEqual(100);
        for (const b of modal.blocks) {
          if (b.type === 'section') {
            expect(b.text!.text.length).toBeGreaterThan(0);
            expect(b.text!.text.length).toBeLessThanOrEqual(3000);
          }
        }
        expectNothingForged(modal, [row.agentOwner, row.decidedBy]);
        expect(strings(modal).some((s) => LONE_SURROGATE.test(s))).toBe(false);

        const truncated = modal.blocks[modal.blocks.length - 1]!.type === 'context';
        if (!truncated) {
          expect(modal.blocks.slice(1).map((b) => b.text!.text).join('')).toBe(expectedText(state));
        } else {
          expect(modal.blocks).toHaveLength(100);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('denyModal', () => {
  const meta = { id: EXAMPLE.id, digest: DIGEST, channel: 'C0REFUNDS1' };
  const modal = denyModal(meta, 'payments.refund') as {
    callback_id: string;
    private_metadata: string;
    title: { text: string };
    submit: { text: string };
    close: { text: string };
    blocks: { type: string; element?: { max_length?: number } }[];
  };

  it('carries the escalation, the digest and the channel in private_metadata, within 3000 characters', () => {
    expect(modal.private_metadata.length).toBeLessThanOrEqual(3000);
    expect(parseDenyMetadata(modal.private_metadata)).toEqual(meta);
  });

  it('is submitted as the deny-reason view, with labels that fit', () => {
    expect(modal.callback_id).toBe(VIEW_DENY_REASON);
    for (const label of [modal.title, modal.submit, modal.close]) expect(label.text.length).toBeLessThanOrEqual(24);
  });

  it('asks for a reason of at most 2000 characters', () => {
    const input = modal.blocks.find((b) => b.type === 'input');
    expect(input?.element?.max_length).toBe(2000);
  });

  it('refuses metadata that would not fit rather than sending a view Slack rejects', () => {
    expect(() => denyModal({ ...meta, channel: 'C'.repeat(3000) }, 'payments.refund')).toThrow();
  });

  it('fits for any valid id and digest', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.stringMatching(/^[0-9a-f]{64}$/), fc.stringMatching(/^[CGD][A-Z0-9]{2,20}$/), (id, digest, channel) => {
        const m = denyModal({ id, digest, channel }, 'payments.refund') as { private_metadata: string };
        expect(m.private_metadata.length).toBeLessThanOrEqual(3000);
        expect(parseDenyMetadata(m.private_metadata)).toEqual({ id, digest, channel });
      }),
    );
  });

  it.each([undefined, '', 'not json', '{"id":"x"}', '[]', 'null'])('parseDenyMetadata refuses metadata it did not write: %j', (raw) => {
    expect(parseDenyMetadata(raw)).toBeUndefined();
  });
});

describe('parseButtonValue', () => {
  it('round-trips the id and digest of every pending card', () => {
    fc.assert(
      fc.property(fc.uuid(), (id) => {
        const e = { ...structuredClone(EXAMPLE), id };
        const value = actionsOf(cardOf(e))[0]!.elements![0]!.value;
        expect(parseButtonValue(value)).toEqual({ id, digest: requestDigest(e) });
      }),
      { numRuns: 100 },
    );
  });

  it.each([undefined, '', 'abc', `${EXAMPLE.id}:`, `${EXAMPLE.id}:${DIGEST}x`, `${EXAMPLE.id}:${DIGEST.slice(1)}`, `x${EXAMPLE.id}:${DIGEST}`])(
    'refuses a value it did not write: %j',
    (value) => {
      expect(parseButtonValue(value)).toBeUndefined();
    },
  );
});
