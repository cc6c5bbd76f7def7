import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVER, APPROVER_2, OWNER, REFUNDS_CHANNEL, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { ONCALL, countersign, handoffConfig } from '../support/handoff-config.js';
import { eventually } from '../support/services.js';
import { eventCallbackBody, postSigned } from '../support/slack-signing.js';

const DELEGATE = 'U0DELEGAT01';
const STRANGER = 'U0STRANGER1';
const STRANGERS_DELEGATE = 'U0DELEGAT02';
const PAGE_DELEGATE = 'U0DELEGAT03';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: handoffConfig() });
});
afterAll(async () => {
  await h?.close();
});

/** A date `days` from today, as a person types it (the example policy's time zone is UTC). */
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

async function pendingCard(overrides = {}) {
  const e = makeEscalation(overrides);
  await h.enqueue(e);
  return { e, card: await h.card(e.id) };
}

const ephemeralTo = (user: string, contains: string) => h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === user && String(c.args.text).includes(contains));
const decided = (id: string) =>
  eventually(async () => {
    const [r] = await h.sql`select status, decided_by, decided_on_behalf_of from escalations where id = ${id}`;
    return r!.status !== 'pending' ? r : undefined;
  }, 'the decision');

describe('/countersign delegate', () => {
  it('sets an out-of-office delegate until a date, recorded as a row and an audit event', async () => {
    const until = inDays(10);
    const reply = await countersign(h, `delegate <@${DELEGATE}|delegate> until ${until}`, APPROVER_2);
    expect(reply).toMatch(new RegExp(`^<@${DELEGATE}> stands in for you through ${until} \\(UTC; ends <!date\\^\\d+\\^.*>\\): your pages go to them, and they may decide what you could`));
    const [row] = await h.sql`select delegator, delegate, until, timezone, ends_at from delegations where delegator = ${APPROVER_2}`;
    expect(row).toMatchObject({ delegator: APPROVER_2, delegate: DELEGATE, until, timezone: 'UTC' });
    expect((row!.ends_at as Date).toISOString()).toBe(`${inDays(11)}T00:00:00.000Z`);
    const [ev] = await h.sql`select actor, data from events where type = 'delegation_set' and actor = ${APPROVER_2}`;
    expect(ev!.data).toMatchObject({ delegator: APPROVER_2, delegate: DELEGATE, until });
    expect(await countersign(h, 'delegate', DELEGATE)).toContain(`You stand in for <@${APPROVER_2}> through ${until}`);
    expect(await countersign(h, 'delegate list', APPROVER_2)).toContain(`You are out of office: <@${DELEGATE}> stands in for you`);
  });

  it.each([
    [`delegate <@${APPROVER}> until ${inDays(3)}`, '`@user`: You cannot delegate to yourself.'],
    [`delegate someone until ${inDays(3)}`, '`@user`: Mention the person'],
    [`delegate <@${DELEGATE}> until ${inDays(-2)}`, '`until`: '],
    [`delegate <@${DELEGATE}> until ${inDays(200)}`, '`until`: A delegation lasts at most 90 days'],
    [`delegate <@${DELEGATE}> until tomorrow`, '`until`: `tomorrow` is not a date'],
  ])('answers `%s` with an error naming the field, and records nothing', async (text, error) => {
    const reply = await countersign(h, text, APPROVER);
    expect(reply).toContain(error);
    expect(reply).toContain('Usage: `/countersign delegate @user until YYYY-MM-DD`');
    expect(await h.sql`select 1 from delegations where delegator = ${APPROVER}`).toHaveLength(0);
  });
});

describe('a delegate deciding', () => {
  it('decides what the delegator could, and the record names both', async () => {
    const { e, card } = await pendingCard();
    await h.click(DELEGATE, 'countersign.approve', card);
    expect(await decided(e.id)).toMatchObject({ status: 'approved', decided_by: DELEGATE, decided_on_behalf_of: APPROVER_2 });
    const [made] = await h.sql`select actor, data from events where escalation_id = ${e.id} and type = 'decision_made'`;
    expect(made).toMatchObject({ actor: DELEGATE, data: { status: 'approved', onBehalfOf: APPROVER_2 } });
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts && JSON.stringify(c.args.blocks).includes(`*Approved* by <@${DELEGATE}> on behalf of <@${APPROVER_2}>`));
  });

  it('shows the delegator’s approvals in the delegate’s App Home', async () => {
    const { e } = await pendingCard();
    const body = eventCallbackBody({ type: 'app_home_opened', user: DELEGATE, channel: 'D0DELEGAT01', tab: 'home' });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, body, 'application/json')).status).toBe(200);
    await h.fake.waitFor((c) => c.method === 'views.publish' && c.args.user_id === DELEGATE && JSON.stringify(c.args.view).includes(e.id));
  });

  it('is refused once the delegation is past its end date', async () => {
    // Time passes: the delegation's window now lies in the past (as at its end date, by the clock the bot reads).
    await h.sql`update delegations set starts_at = now() - interval '11 days', ends_at = now() - interval '1 second' where delegator = ${APPROVER_2}`;
    const { e, card } = await pendingCard();
    await h.click(DELEGATE, 'countersign.approve', card);
    await ephemeralTo(DELEGATE, 'You are not an approver for route `refunds`');
    const [row] = await h.sql`select status from escalations where id = ${e.id}`;
    expect(row!.status).toBe('pending');
    expect(await countersign(h, 'delegate', DELEGATE)).toContain('No delegation in force from or to you.');
  });

  it('never lets the agent’s owner approve as a delegate', async () => {
    await countersign(h, `delegate <@${OWNER}> until ${inDays(5)}`, APPROVER);
    const { e, card } = await pendingCard();
    await h.click(OWNER, 'countersign.approve', card);
    await ephemeralTo(OWNER, 'You own this agent, so you cannot approve its actions');
    const [row] = await h.sql`select status from escalations where id = ${e.id}`;
    expect(row!.status).toBe('pending');
    const refused = await h.sql`select data from events where escalation_id = ${e.id} and type = 'decision_refused'`;
    expect(refused.map((r) => r.data)).toEqual([{ kind: 'approve', reason: 'owner_cannot_approve' }]);
    expect(await countersign(h, 'delegate off', APPROVER)).toBe(`Your delegation to <@${OWNER}> ended now. Recorded.`);
    const [ended] = await h.sql`select actor, data from events where type = 'delegation_ended' and actor = ${APPROVER}`;
    expect(ended!.data).toMatchObject({ delegator: APPROVER, delegate: OWNER, reason: 'revoked' });
  });

  it('gives the delegate of someone who is not an approver nothing', async () => {
    expect(await countersign(h, `delegate <@${STRANGERS_DELEGATE}> until ${inDays(5)}`, STRANGER)).toContain('stands in for you');
    const { e, card } = await pendingCard();
    await h.click(STRANGERS_DELEGATE, 'countersign.approve', card);
    await ephemeralTo(STRANGERS_DELEGATE, 'You are not an approver for route `refunds`');
    const [row] = await h.sql`select status from escalations where id = ${e.id}`;
    expect(row!.status).toBe('pending');
  });
});

describe('pages while out of office', () => {
  it('go to the delegate: the card mentions them and says why, and an urgent DM reaches them with the buttons', async () => {
    await countersign(h, `delegate <@${PAGE_DELEGATE}> until ${inDays(3)}`, ONCALL);
    const { e, card } = await pendingCard({ urgency: 'critical' });
    const text = JSON.stringify(card.blocks);
    expect(text).toContain(`:pager: On call for route \`refunds\`: <@${PAGE_DELEGATE}> (<@${ONCALL}> is out of office: their delegate is paged)`);
    const dm = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === PAGE_DELEGATE);
    expect(String(dm.args.text)).toContain(`You are covering for <@${ONCALL}>, who is out of office.`);
    expect(JSON.stringify(dm.args.blocks)).toContain('countersign.approve');
    const paged = await eventually(async () => {
      const [r] = await h.sql`select data from events where escalation_id = ${e.id} and type = 'paged'`;
      return r?.data as { user: string; onBehalfOf: string; reason: string } | undefined;
    }, 'the page recorded');
    expect(paged).toMatchObject({ user: PAGE_DELEGATE, onBehalfOf: ONCALL });
    expect(paged.reason).toContain(`${PAGE_DELEGATE} is the out-of-office delegate of ${ONCALL} (on-call primary) for route refunds`);

    // The delegate decides from the card, on behalf of the on-call person.
    await h.click(PAGE_DELEGATE, 'countersign.approve', card, REFUNDS_CHANNEL);
    expect(await decided(e.id)).toMatchObject({ status: 'approved', decided_by: PAGE_DELEGATE, decided_on_behalf_of: ONCALL });

    // Back in office: pages go to them again.
    await countersign(h, 'delegate off', ONCALL);
    const next = await pendingCard();
    expect(JSON.stringify(next.card.blocks)).toContain(`:pager: On call for route \`refunds\`: <@${ONCALL}>"`);
  });
});
