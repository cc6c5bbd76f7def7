import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, REFUNDS_CHANNEL, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../../support/harness.js';
import { blockActionsBody, blockActionsPayload, postSigned, slashCommandBody } from '../../support/slack-signing.js';
import type { FakeCall } from '../../support/fake-slack.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  // 30 actions of one agent, a minute apart, for paging; one carries PII in its reason.
  for (let i = 0; i < 30; i++) {
    await h.sql`insert into escalations (id, status, agent_id, action_type, execution_id, decided_by, decision_reason, created_at)
      values (${randomUUID()}, 'denied', 'page-agent', 'email.send', ${`exec-page-${i}`}, ${APPROVER},
        ${i === 0 ? 'customer jane.doe@example.com asked us not to' : null}, now() - make_interval(mins => ${i}))`;
  }
});
afterAll(async () => {
  await h?.close();
});

const run = (text: string, userId = APPROVER) =>
  postSigned(
    `${h.baseUrl}/slack/events`,
    SIGNING_SECRET,
    slashCommandBody({ command: '/countersign', text: `audit ${text}`, userId, channelId: REFUNDS_CHANNEL, responseUrl: h.fake.responseUrl }),
  );

const replies = () => h.fake.calls.filter((c) => c.method === 'response_url');
const next = async (since: number, what: (c: FakeCall) => boolean) => h.fake.waitFor((c) => c.method === 'response_url' && replies().indexOf(c) >= since && what(c));
type Block = { type: string; text?: { text: string }; elements?: Array<{ action_id?: string; value?: string; text?: unknown }> };
const blocksOf = (c: FakeCall) => (c.args.blocks ?? []) as Block[];
const recordTexts = (c: FakeCall) => blocksOf(c).filter((b) => b.type === 'section' && b.text?.text.includes(' · id `')).map((b) => b.text!.text);
const nextButton = (c: FakeCall) => blocksOf(c).flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'countersign.audit_next');

describe('/countersign audit', () => {
  it('finds a decision made through the real loop, ephemerally', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    await h.click(APPROVER, 'countersign.approve', card);
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    const since = replies().length;
    expect((await run(`exec:${e.executionId} outcome:approved`)).status).toBe(200);
    const reply = await next(since, (c) => String(c.args.text).startsWith('Audit search'));
    expect(reply.args.response_type).toBe('ephemeral');
    const [line, ...more] = recordTexts(reply);
    expect(more).toEqual([]);
    expect(line).toContain(`*approved* by <@${APPROVER}>`);
    expect(line).toContain(e.id);
    expect(line).toContain('`support-agent` · `payments.refund`');
  });

  it('pages with a Next page button that carries the cursor, and masks PII', async () => {
    let since = replies().length;
    await run('agent:page-agent');
    const first = await next(since, (c) => String(c.args.text).startsWith('Audit search'));
    const page1 = recordTexts(first);
    expect(page1).toHaveLength(20);
    // Masked, and the mask's asterisks read as asterisks: they cannot bold anything.
    expect(page1[0]).toContain('customer j∗∗∗@example.com asked us not to');
    expect(JSON.stringify(first.args)).not.toContain('jane.doe');
    const button = nextButton(first)!;
    expect(button).toBeDefined();

    since = replies().length;
    const click = blockActionsPayload({ userId: APPROVER, channel: REFUNDS_CHANNEL, messageTs: '1.000001', actionId: 'countersign.audit_next', value: button.value!, responseUrl: h.fake.responseUrl });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(click))).status).toBe(200);
    const second = await next(since, (c) => String(c.args.text).startsWith('Audit search'));
    expect(second.args.replace_original).toBe(true);
    const page2 = recordTexts(second);
    expect(page2).toHaveLength(10);
    expect(nextButton(second)).toBeUndefined();
    const execs = [...page1, ...page2].map((t) => /exec `([^`]+)`/.exec(t)![1]);
    expect(new Set(execs).size).toBe(30);
    expect(execs[0]).toBe('exec-page-0');
    expect(execs[29]).toBe('exec-page-29');
  });

  it('names the bad field and shows the usage', async () => {
    const since = replies().length;
    await run('outcome:won from:yesterday');
    const reply = await next(since, (c) => String(c.args.text).startsWith('Cannot search'));
    expect(String(reply.args.text)).toContain('outcome: must be one of');
    expect(String(reply.args.text)).toContain('from: must be a date');
    expect(String(reply.args.text)).toContain('Usage');
  });

  it('refuses people who are neither approvers nor admins', async () => {
    const since = replies().length;
    await run('agent:page-agent', 'U0STRANGER1');
    const reply = await next(since, (c) => String(c.args.text).includes('Only approvers and Countersign admins'));
    expect(reply.args.blocks).toBeUndefined();
  });
});

describe('/countersign audit, for an agent with the longest ids', () => {
  it('keeps a page of twenty records within Slack’s message size, every record and the Next page button on it', async () => {
    const agent = `long-agent-${'x'.repeat(189)}`;
    for (let i = 0; i < 21; i++) {
      await h.sql`insert into escalations (id, status, agent_id, action_type, execution_id, decided_by, decision_reason, created_at)
        values (${randomUUID()}, 'denied', ${agent}, ${`${'a'.repeat(49)}.${'b'.repeat(50)}`}, ${`exec-long-${i}-${'e'.repeat(180)}`}, ${APPROVER},
          ${`<too long> & "quoted" ${'r'.repeat(400)}`}, now() - make_interval(mins => ${i}))`;
    }
    const since = replies().length;
    await run(`agent:${agent}`);
    const page = await next(since, (c) => String(c.args.text).startsWith('Audit search'));
    // Unshortened, these twenty records make 14,529 characters of blocks: past Slack's msg_blocks_too_long.
    expect(JSON.stringify(page.args.blocks).length).toBeLessThanOrEqual(12_000);
    expect(recordTexts(page)).toHaveLength(20);
    expect(nextButton(page)).toBeDefined();
  });
});
