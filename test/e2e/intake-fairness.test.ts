import { describe, expect, it } from 'vitest';
import { GENERAL_CHANNEL, makeEscalation, type Harness } from '../support/harness.js';
import { withBotAndCallbacks } from '../support/bot-hooks.js';
import { eventually } from '../support/services.js';

/**
 * Issue 16 §2: "Other channels must not be delayed" by a burst into one. The
 * burst's escalations are allowed at intake (no card, so Slack's pace plays no
 * part): what is measured is the order in which intake takes them in.
 */
const BURST = 600;

let h: Harness;
withBotAndCallbacks((bot) => ({ h } = bot));

/** Routed to the refunds channel, and allowed by policy on its own. */
const readInRefunds = () => {
  const e = makeEscalation({ action: { type: 'crm.read', params: { customerId: 'cus_4521' }, reversible: true, summary: 'Read the customer record' }, confidence: 0.95, issueType: 'refund' });
  delete e.callback;
  return e;
};
/** The default route's channel, waiting for a person. */
const general = () => makeEscalation({ issueType: 'other', labels: {} });

describe('intake under a burst into one channel', () => {
  it("takes another channel's escalation in after at most a few of the burst's, not after all of them", async () => {
    const burst = Array.from({ length: BURST }, readInRefunds);
    const other = general();
    // Queued while paused, so that all of the burst is ahead of the other in the queue when the workers start.
    await h.queue.pause();
    await h.queue.addBulk(burst.map((e) => ({ name: 'escalation', data: e, opts: { jobId: e.id } })));
    await h.queue.add('escalation', other, { jobId: other.id });
    await h.queue.resume();

    await h.card(other.id);
    const post = h.fake.calls.find((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.metadata ?? {}).includes(other.id));
    expect(post?.args.channel).toBe(GENERAL_CHANNEL);
    const ids = [...burst.map((e) => e.id), other.id];
    // The order of intake is the order of the `received` records (their ids are a sequence).
    const received = await eventually(async () => {
      const rows = await h.sql`select escalation_id from events where type = 'received' and escalation_id = any(${ids}::uuid[]) order by id`;
      return rows.length === ids.length ? rows.map((r) => String(r.escalation_id)) : undefined;
    }, 'every escalation taken in');
    // In arrival order it would be last (600); taken ahead of its turn by channel, it waits
    // only for the burst's jobs already running or fetched before it (one fetch at a time).
    expect(received.indexOf(other.id)).toBeLessThan(BURST / 2);
  });
});
