import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { APPROVER, APPROVER_2, GENERAL_CHANNEL, SIGNING_SECRET, type Harness } from '../support/harness.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from '../support/slack-signing.js';
import { REDIS_URL, eventually } from '../support/services.js';
import { escalationOf, sampleCases } from '../../src/sandbox/samples.js';
import { CHAINS_QUEUE } from '../../src/queue/names.js';

// The bot under the example config, as the sandbox runs it.
let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot));

const PAYOPS = ['U0PAYOPS001', 'U0PAYOPS002'];
const sample = (labelStart: string) => {
  const found = sampleCases().find((s) => s.label.startsWith(labelStart));
  if (!found) throw new Error(`no sample labelled ${labelStart}…`);
  return found;
};

async function eventData(id: string, type: string): Promise<Array<Record<string, unknown>>> {
  const rows = await h.sql<{ data: Record<string, unknown> }[]>`select data from events where escalation_id = ${id} and type = ${type} order by id`;
  return rows.map((r) => r.data);
}

describe('the sandbox samples land where their labels say', () => {
  it('the urgent payout goes to payments-urgent: a card naming the on-call person, a DM, and the chain’s next step in 5 minutes', async () => {
    const s = sample('billing: $8,200 supplier payout');
    expect(s.label).toContain('#C0PAYMENTS');
    const e = { ...escalationOf(s.case), callback: { url: cb.url } };
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(h.fake.message('C0PAYMENTS', card.ts)).toBeDefined();
    const [row] = await h.sql<Array<{ route: string; status: string; tier: string }>>`select route, status, tier from escalations where id = ${e.id}`;
    expect(row).toMatchObject({ route: 'payments-urgent', status: 'pending', tier: 'restricted' });

    const text = JSON.stringify(card.blocks);
    expect(text).toContain('high stakes: amountUsd &gt; 5000');
    const oncall = PAYOPS.find((u) => text.includes(`On call for route \`payments-urgent\`: <@${u}>`));
    expect(oncall, 'the card names one of the payments on-call people').toBeDefined();
    const [step0] = await eventually(async () => {
      const steps = await eventData(e.id, 'chain_step');
      return steps.length > 0 ? steps : undefined;
    }, 'the chain’s first step');
    expect(step0).toMatchObject({ chain: 'payments-urgent', step: 0, targets: ['dm_primary', 'primary_in_channel'] });
    // Step 0 runs once the card is out; the next step is 5 minutes after it (not a minute more).
    const [created] = await h.sql<{ at: Date }[]>`select created_at as at from escalations where id = ${e.id}`;
    expect(Date.parse(step0!.nextAt as string) - created!.at.getTime()).toBeGreaterThanOrEqual(5 * 60_000);
    expect(Date.parse(step0!.nextAt as string) - created!.at.getTime()).toBeLessThan(6 * 60_000);
    const dm = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === oncall);
    expect(String(dm.args.text)).toContain('payments.payout');

    const q = new Queue(CHAINS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      expect(await q.getJobState(`chain-${e.id}-1`)).toBe('delayed');
    } finally {
      await q.close();
    }
    await h.click(APPROVER, 'countersign.approve', card, 'C0PAYMENTS');
    expect((await h.client.waitForDecision(e.id, { timeoutMs: 5000 })).status).toBe('approved');
  });

  it('the $2,400 refund goes to #C0REFUNDS1 by its issue type, restricted and high stakes, paging nobody', async () => {
    const s = sample('support: $2,400 refund');
    expect(s.label).toContain('#C0REFUNDS1');
    const e = { ...escalationOf(s.case), callback: { url: cb.url } };
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(h.fake.message('C0REFUNDS1', card.ts)).toBeDefined();
    const [row] = await h.sql<Array<{ route: string; status: string; tier: string }>>`select route, status, tier from escalations where id = ${e.id}`;
    expect(row).toMatchObject({ route: 'refunds', status: 'pending', tier: 'restricted' });
    expect(JSON.stringify(card.blocks)).toContain('high stakes: amountUsd &gt; 2000');
    expect(await eventData(e.id, 'paged')).toEqual([]);
  });
  it('the $48,000 transfer needs two approvers: the card stays open after the first and the second approves it', async () => {
    const s = sample('treasury: $48,000 transfer');
    expect(s.label).toContain('#C0GENERAL1');
    const e = { ...escalationOf(s.case), callback: { url: cb.url } };
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(h.fake.message(GENERAL_CHANNEL, card.ts)).toBeDefined();
    expect(JSON.stringify(card.blocks)).toContain('0 of 2 approvals');
    await h.click(APPROVER, 'countersign.approve', card, GENERAL_CHANNEL);
    await eventually(async () => ((await eventData(e.id, 'approval_recorded')).length === 1 ? true : undefined), 'the first approval');
    expect((await h.sql`select status from escalations where id = ${e.id}`)[0]!.status).toBe('pending');
    await h.click(APPROVER_2, 'countersign.approve', card, GENERAL_CHANNEL);
    const decision = await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
    expect(decision).toMatchObject({ status: 'approved', approvals: { required: 2, by: [APPROVER, APPROVER_2] } });
  });

  it('the $640 standing desk offers Edit and approve…, and the agent learns the amount the approver lowered it to', async () => {
    const s = sample('procurement: $640 standing desk');
    const e = { ...escalationOf(s.case), callback: { url: cb.url } };
    await h.enqueue(e);
    const card = await h.card(e.id);
    const buttons = (card.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
    expect(buttons.map((b) => b.action_id)).toContain('countersign.edit_approve');
    const [id, digest] = buttons[0]!.value.split(':');
    const payload = viewSubmissionPayload({
      userId: APPROVER,
      callbackId: 'countersign.edit_approve_submit',
      privateMetadata: JSON.stringify({ id, digest, channel: GENERAL_CHANNEL }),
      values: { 'edit:amountUsd': { value: { type: 'number_input', value: '480' } } },
    });
    await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
    const m = await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
    expect(m).toMatchObject({ status: 'approved', approved: { edited: true, editedParams: { amountUsd: 480 } } });
  });
});
