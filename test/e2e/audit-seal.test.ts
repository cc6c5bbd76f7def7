import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('the running bot', () => {
  it('seals its events into the audit hash chain on its own, behind the hot path', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    await h.card(e.id);
    const [ev] = await h.sql`select id from events where escalation_id = ${e.id} and type = 'received'`;
    // Events are sealed once they are 5 s old, by a job every 2 s.
    await eventually(async () => ((await h.sql`select 1 from audit_chain where event_id = ${ev!.id}`).length ? true : undefined), 'the event sealed', 20_000);
    const [{ sealed, events }] = (await h.sql`select (select count(*)::int from audit_chain) as sealed, (select count(*)::int from events where id <= ${ev!.id}) as events`) as unknown as [{ sealed: number; events: number }];
    expect(sealed).toBeGreaterThanOrEqual(events);
  }, 30_000);
});
