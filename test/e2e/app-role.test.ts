import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks, type CallbackServer } from '../support/bot-hooks.js';
import { APPROVER, makeEscalation, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';

let h: Harness;
let cb: CallbackServer;
withBotAndCallbacks((bot) => ({ h, cb } = bot));

const BOT_ROLE = 'countersign_test_bot';

describe('the bot running as a login role in countersign_app', () => {
  it('takes an escalation through card, click, callback and the sealed chain, with migrations run as the owner', async () => {
    await h.sql.unsafe(`DO $$ BEGIN CREATE ROLE ${BOT_ROLE} LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`);
    await h.sql.unsafe(`GRANT countersign_app TO ${BOT_ROLE}`);
    await h.restart({ DATABASE_URL: h.dbUrl.replace('//root@', `//${BOT_ROLE}@`), MIGRATE_DATABASE_URL: h.dbUrl });

    const e = makeEscalation({ callback: { url: cb.url } });
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
    expect((await cb.waitFor(e.id)).json).toMatchObject({ status: 'approved', proceed: true });

    const [who] = await h.sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity where usename = ${BOT_ROLE} and datname = current_database()`;
    expect(who!.n).toBeGreaterThan(0);
    // The sealer (5 s behind) links the events with the app's INSERT privilege alone.
    await eventually(async () => {
      const [r] = await h.sql<{ n: number }[]>`select count(*)::int as n from audit_chain c join events e on e.id = c.event_id where e.escalation_id = ${e.id} and e.type = 'decision_made'`;
      return r!.n === 1 ? true : undefined;
    }, 'decision sealed', 20_000);
  }, 40_000);
});
