import { describe, expect, it } from 'vitest';
import { APPROVER, makeEscalation, type Harness } from '../support/harness.js';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { eventually } from '../support/services.js';

let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot));

describe('a bot starting after a crash', () => {
  it('hands back at once a decision its predecessor committed but died before handing back', async () => {
    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    await h.card(e.id);
    // What a process killed between the decision's commit and its enqueue leaves: decided a
    // moment before the crash, no notify job, not handed back. The minute sweep waits 60 s for such a one.
    await h.sql`update escalations set status = 'approved', decided_by = ${APPROVER}, decided_at = now() - interval '1 second' where id = ${e.id}`;
    await h.restart();
    // The start sweep runs 5 s after start: every decision made before it started is then at least that old.
    const told = await cb.waitFor(e.id, 15_000);
    expect(told.json).toMatchObject({ escalationId: e.id, status: 'approved' });
    expect(cb.received.filter((c) => c.json.escalationId === e.id)).toHaveLength(1);
    await eventually(async () => ((await h.sql`select notified_at from escalations where id = ${e.id}`)[0]!.notified_at ? true : undefined), 'the hand-back recorded');
  });
});
