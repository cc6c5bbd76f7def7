import { describe, expect, it } from 'vitest';
import { requestDigest } from '../../src/domain/digest.js';
import type { Escalation } from '../../src/domain/escalation.js';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { APPROVER, SIGNING_SECRET, REFUNDS_CHANNEL, exampleConfigText, makeEscalation, type Harness } from '../support/harness.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from '../support/slack-signing.js';
import { eventually } from '../support/services.js';

let h: Harness;
let cb: CallbackServer;
const config = `${exampleConfigText}
audit:
  redact:
    patterns:
      - { name: employee, regex: "EMP-\\\\d{6}" }
    fields: [dateOfBirth]
`;
withBotAndCallbacks((bot) => ({ h, cb } = bot), { config });

/** Raw PII the agent sends, none of which may be stored or shown. */
const RAW = ['4111 1111 1111 1111', '4111111111111111', '078-05-1120', 'jane.doe@example.com', '+14155550123', '(415) 555-0199', 'EMP-123456', '1990-04-01'];

function piiEscalation() {
  const e = makeEscalation();
  e.action.params = { orderId: '#4521', amountUsd: 340, customerEmail: 'jane.doe@example.com', card: '4111 1111 1111 1111', dateOfBirth: '1990-04-01' };
  e.trigger.input = 'Customer (SSN 078-05-1120, phone +14155550123) wants a refund for order #4521 on invoice INV-2026-04-0042.';
  e.reasoning = 'Called (415) 555-0199 on 2026-11-20; agent EMP-123456 confirmed the defect. Escalation 7d1f7a7e-4c1b-4f7e-9a55-2f4be0c6a111.';
  return e;
}

describe('PII redaction at intake', () => {
  it('stores and shows only masked values, keeps order numbers, dates and ids, and the decision still binds to the raw request', async () => {
    const e = { ...piiEscalation(), callback: { url: cb.url } };
    await h.enqueue(e);
    const card = await h.card(e.id);
    const shown = JSON.stringify(card.blocks);
    for (const raw of RAW) expect(shown).not.toContain(raw);
    expect(shown).toContain('[card ••••1111]');
    // Slack shows the mask's stars as look-alikes, so they cannot turn into bold.
    expect(shown).toContain('j∗∗∗@example.com');
    expect(shown).toContain('#4521');

    const [row] = await h.sql<{ request: unknown; digest: string }[]>`select request, digest from escalations where id = ${e.id}`;
    const [received] = await h.sql<{ data: { request: unknown } }[]>`select data from events where escalation_id = ${e.id} and type = 'received'`;
    for (const stored of [JSON.stringify(row!.request), JSON.stringify(received!.data.request)]) {
      for (const raw of RAW) expect(stored).not.toContain(raw);
      expect(stored).toContain('[ssn]');
      expect(stored).toContain('[phone ••23]');
      expect(stored).toContain('[phone ••99]');
      expect(stored).toContain('[employee]');
      expect(stored).toContain('"dateOfBirth":"[redacted]"');
      expect(stored).toContain('INV-2026-04-0042');
      expect(stored).toContain('2026-11-20');
      expect(stored).toContain('7d1f7a7e-4c1b-4f7e-9a55-2f4be0c6a111');
      expect(stored).toContain('"amountUsd":340');
    }
    // The digest is over what the agent sent, so the decision binds to that.
    expect(row!.digest).toBe(requestDigest(e as Escalation));

    expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
    const got = await cb.waitFor(e.id);
    expect(got.json).toMatchObject({ status: 'approved', proceed: true, requestDigest: requestDigest(e as Escalation) });
  });

  it('masks PII in an approver’s deny reason before it is stored or shown', async () => {
    const e = piiEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    const value = (card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>)
      .flatMap((b) => b.elements ?? [])
      .find((el) => el.action_id === 'countersign.deny')!.value;
    const [id, digest] = value.split(':');
    const payload = viewSubmissionPayload({
      userId: APPROVER,
      callbackId: 'countersign.deny_reason',
      privateMetadata: JSON.stringify({ id, digest, channel: REFUNDS_CHANNEL }),
      values: { reason: { reason_input: 'Card 4111-1111-1111-1111 is not the customer’s; ask jane.doe@example.com' } },
    });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload))).status).toBe(200);
    const reason = await eventually(async () => {
      const [r] = await h.sql<{ decision_reason: string | null }[]>`select decision_reason from escalations where id = ${e.id} and status = 'denied'`;
      return r?.decision_reason ?? undefined;
    }, 'denied');
    expect(reason).toBe('Card [card ••••1111] is not the customer’s; ask j***@example.com');
    const [made] = await h.sql<{ data: { reason: string } }[]>`select data from events where escalation_id = ${e.id} and type = 'decision_made'`;
    expect(made!.data.reason).toBe(reason);
    const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    expect(JSON.stringify(update.args.blocks)).not.toContain('4111');
  });
});
