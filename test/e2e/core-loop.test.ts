import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { verifyCallback } from '../../src/domain/callback-signature.js';
import { API_TOKEN, APPROVER, CALLBACK_SECRET, REFUNDS_CHANNEL, makeEscalation, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';

let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot));

describe('the core loop', () => {
  it('takes a queued escalation to a card, a signed click, an updated card, a signed callback and the API', async () => {
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);

    const card = await h.card(e.id);
    const text = JSON.stringify(card.blocks);
    expect(text).toContain('Refund $340.00 for order #4521');
    expect(text).toContain('decide by <!date^');
    expect(text).toContain('countersign.approve');
    // The stakes lead, and the buttons come right under them (header, stakes line, actions).
    expect((card.blocks as Array<{ type: string }>).slice(0, 3).map((b) => b.type)).toEqual(['header', 'section', 'actions']);
    expect(text).toContain('*irreversible*');

    const res = await h.click(APPROVER, 'countersign.approve', card);
    expect(res.status).toBe(200);

    const update = await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    const updated = JSON.stringify(update.args.blocks);
    expect(updated).toContain(`Approved* by <@${APPROVER}>`);
    expect(updated).not.toContain('countersign.approve');
    expect(updated).not.toContain('countersign.deny');
    // Decided: when and by whom, where the deadline was; nothing still asks for a decision by a time.
    expect(updated).not.toContain('decide by');

    const got = await cb.waitFor(e.id);
    expect(got.json).toMatchObject({ escalationId: e.id, status: 'approved', proceed: true, decision: { by: APPROVER } });
    expect(
      verifyCallback({
        secret: CALLBACK_SECRET,
        timestamp: got.headers['x-countersign-timestamp'] as string,
        signature: got.headers['x-countersign-signature'] as string,
        body: got.body,
      }),
    ).toBe(true);

    const api = await fetch(`${h.baseUrl}/api/escalations/${e.id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({ escalationId: e.id, status: 'approved', proceed: true });

    const decision = await h.client.waitForDecision(e.id, { timeoutMs: 5000 });
    expect(decision.status).toBe('approved');

    const types = await eventually(async () => {
      const rows = await h.sql<{ type: string }[]>`select type from events where escalation_id = ${e.id} order by id`;
      const t = rows.map((r) => r.type);
      return t.filter((x) => x === 'agent_notified').length >= 2 ? t : undefined;
    }, 'agent_notified events');
    expect(types).toEqual(expect.arrayContaining(['received', 'card_posted', 'decision_attempted', 'decision_made', 'card_updated', 'agent_notified']));
    expect(h.fake.messages(REFUNDS_CHANNEL).filter((m) => m.metadata?.event_payload.escalation_id === e.id)).toHaveLength(1);
  });

  it('answers 401 to the API without a valid bearer token, and 404 for an unknown id', async () => {
    const e = makeEscalation();
    expect((await fetch(`${h.baseUrl}/api/escalations/${e.id}`)).status).toBe(401);
    expect((await fetch(`${h.baseUrl}/api/escalations/${e.id}`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${h.baseUrl}/api/escalations/${e.id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(404);
    expect((await fetch(`${h.baseUrl}/api/escalations/not-a-uuid`, { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(400);
  });

  it('reports health as 200 JSON while Postgres and Redis answer', async () => {
    const res = await fetch(`${h.baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });
});
