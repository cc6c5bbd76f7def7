import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APPROVER, APPROVER_2, SIGNING_SECRET, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { postSigned, slashCommandBody } from '../support/slack-signing.js';
import { eventually } from '../support/services.js';

const ONCALL = 'U0ONCALLA1';
const BACKUP = 'U0ONCALLB2';
const COVER = 'U0COVERC03';
const OUTSIDER = 'U0OUTSIDE4';
const GROUP_MEMBER = 'U0GROUPMB5';
const PAYOPS = 'S0PAYOPS01';
const ACCESS = 'S0ACCESS01';

/** One person per layer: who is on call is the same on any date after the start. */
const START = '2026-01-01';

const CONFIG = `
slack: { postsPerSecondPerChannel: 1000, postBurst: 1000 }
schedules:
  payments:
    layers:
      - name: main
        priority: 10
        rotation: { users: [${ONCALL}], kind: custom, intervalHours: 8760, handoff: "00:00", timezone: UTC, start: "${START}" }
      - name: backup
        rotation: { users: [${BACKUP}], kind: custom, intervalHours: 8760, handoff: "00:00", timezone: UTC, start: "${START}" }
  next-century:
    layers:
      - name: main
        rotation: { users: [${ONCALL}], kind: daily, timezone: Europe/Berlin, start: "2099-01-01" }
routes:
  - name: prod
    match: { labels: { env: prod } }
    channel: C0PRODLBL1
    approvers: { users: [${APPROVER}] }
  - name: access
    match: { issueTypes: [access] }
    channel: C0ACCESS01
    approvers: { users: [${APPROVER}], usergroup: ${ACCESS} }
    schedules: [next-century]
  - name: payments
    match: { actionTypes: ["payments.*"] }
    channel: C0PAYMENT1
    approvers: { users: [${APPROVER}], usergroup: ${PAYOPS} }
    schedules: [payments]
  - name: default
    channel: C0GENERAL1
    approvers: { users: [${APPROVER}, ${APPROVER_2}] }
`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: CONFIG });
  h.fake.setUsergroup(PAYOPS, [GROUP_MEMBER]);
  h.fake.setUsergroup(ACCESS, []);
});
afterAll(async () => {
  await h?.close();
});
beforeEach(async () => {
  // Presence and DND are cached for a minute: each test starts from Slack's answer.
  const keys = await h.redis.keys(`${h.prefix}:slack-cache:*`);
  if (keys.length) await h.redis.del(...keys);
  for (const u of [ONCALL, BACKUP, COVER]) {
    h.fake.setPresence(u, 'active');
    h.fake.setDnd(u, { dnd_enabled: false });
  }
});

const command = async (text: string, userId = APPROVER, channelId = 'C0PAYMENT1') => {
  const marker = h.fake.callsTo('response_url').length;
  const res = await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, slashCommandBody({ command: '/countersign', text, userId, channelId, responseUrl: h.fake.responseUrl }));
  expect(res.status).toBe(200);
  await h.fake.waitFor('response_url', marker + 1);
  return String(h.fake.callsTo('response_url')[marker]!.args.text);
};

const sectionTexts = (card: { blocks?: unknown[] }) => (card.blocks as Array<{ text?: { text?: string } }>).map((b) => b.text?.text ?? '').join('\n');

describe('routing at intake', () => {
  it('sends an escalation to the first route whose rule matches: labels before action types', async () => {
    const e = makeEscalation({ labels: { env: 'prod', team: 'support' } });
    await h.enqueue(e);
    await h.card(e.id);
    const [row] = await h.sql<Array<{ route: string; channel: string }>>`select route, channel from escalations where id = ${e.id}`;
    expect(row).toEqual({ route: 'prod', channel: 'C0PRODLBL1' });
  });
});

describe('the card pings whoever is on call', () => {
  it('mentions the on-call primary and records the page with their availability', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect(sectionTexts(card)).toContain(`:pager: On call for route \`payments\`: <@${ONCALL}>`);
    // Recorded with card_posted, in the statement that follows Slack's answer.
    const ev = await eventually(async () => {
      const rows = await h.sql<Array<{ data: { user: string; considered: Array<{ user: string; presence: string; dnd: boolean }> } }>>`
        select data from events where escalation_id = ${e.id} and type = 'paged'`;
      return rows[0];
    }, 'the paged event');
    expect(ev.data).toMatchObject({ user: ONCALL, considered: [{ user: ONCALL, presence: 'active', dnd: false }] });
  });

  it('pages the next layer when the primary is away, and says why on the card', async () => {
    h.fake.setPresence(ONCALL, 'away');
    const e = makeEscalation();
    await h.enqueue(e);
    expect(sectionTexts(await h.card(e.id))).toContain(`On call for route \`payments\`: <@${BACKUP}> (<@${ONCALL}> is away)`);
  });

  it('falls back to the route’s user group in a schedule gap, and says so on the card', async () => {
    const e = makeEscalation({ issueType: 'access' });
    await h.enqueue(e);
    expect(sectionTexts(await h.card(e.id))).toContain(`:warning: Nobody is on call for route \`access\`: asking <!subteam^${ACCESS}>`);
  });

  it('says a route has no schedule without pinging anyone', async () => {
    const e = makeEscalation({ action: { ...makeEscalation().action, type: 'crm.update' } });
    await h.enqueue(e);
    expect(sectionTexts(await h.card(e.id))).toContain(':busts_in_silhouette: No on-call schedule for route `default`: any approver of the route may decide');
  });

  it('DMs the on-call person for a critical escalation', async () => {
    const e = makeEscalation({ urgency: 'critical' });
    await h.enqueue(e);
    await h.card(e.id);
    const dm = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === ONCALL);
    expect(String(dm.args.text)).toContain('You are on call for route `payments`');
  });
});

describe('/countersign oncall', () => {
  it('shows who is on call now and next for each route, with times in Slack date format', async () => {
    const text = await command('oncall');
    expect(text).toContain(`*Route \`payments\`*: on call now: <@${ONCALL}> until <!date^`);
    expect(text).toContain(`secondary <@${BACKUP}>`);
    expect(text).toContain('*Route `access`*: nobody is on call now');
    expect(text).toMatch(/next: <@U0ONCALLA1> from <!date\^4070937600\^/); // 2099-01-01 09:00 Berlin
    expect(text).toContain('*Route `default`*: no on-call schedule');
  });

  it('shows one route when named, and lists the routes for an unknown one', async () => {
    expect(await command('oncall access')).not.toContain('payments');
    expect(await command('oncall nope')).toMatch(/^No route `nope`\. Routes: `prod`, `access`, `payments`, `default`\.\nUsage/);
  });
});

describe('/countersign override', () => {
  it('lets an approver put someone on call, recorded as a row and an audit event, and pages them', async () => {
    const reply = await command(`override <@${COVER}|cover> 2h access`);
    // The escalation left waiting in the gap (an earlier test) gets a ping for its new on-call person.
    expect(reply).toMatch(new RegExp(`^<@${COVER}> is on call for route \`access\` from <!date\\^\\d+\\^.*> until <!date\\^\\d+\\^.*> \\(override by <@${APPROVER}>, recorded\\)\\. They are pinged about the escalation waiting on this route\\.$`));
    const [row] = await h.sql<Array<{ user_id: string; created_by: string; hours: number }>>`
      select user_id, created_by, extract(epoch from ends_at - starts_at) / 3600 as hours from oncall_overrides where route = 'access'`;
    expect(row).toMatchObject({ user_id: COVER, created_by: APPROVER });
    expect(Number(row!.hours)).toBe(2);
    const [ev] = await h.sql<Array<{ actor: string; data: { route: string; user: string } }>>`select actor, data from events where type = 'oncall_override'`;
    expect(ev).toMatchObject({ actor: APPROVER, data: { route: 'access', user: COVER } });

    expect(await command('oncall access')).toContain(`on call now: <@${COVER}> until <!date^`);
    const e = makeEscalation({ issueType: 'access' });
    await h.enqueue(e);
    expect(sectionTexts(await h.card(e.id))).toContain(`On call for route \`access\`: <@${COVER}>`);
  });

  it('lets a member of the route’s user group override, on the route of the channel it is typed in', async () => {
    expect(await command(`override <@${COVER}> 30m`, GROUP_MEMBER, 'C0PAYMENT1')).toContain('on call for route `payments`');
  });

  it('refuses anyone who is not an approver of the route, and records nothing', async () => {
    const before = await h.sql`select 1 from oncall_overrides`;
    expect(await command(`override <@${OUTSIDER}> 1d payments`, OUTSIDER)).toBe('Only the approvers of route `payments` (its users and user group) may change who is on call.');
    expect(await h.sql`select 1 from oncall_overrides`).toHaveLength(before.length);
  });

  it.each([
    ['override', 'Mention the person who takes over'],
    ['override @someone 2h', 'Mention the person who takes over'],
    [`override <@${COVER}> soon`, '`soon` is not a duration'],
    [`override <@${COVER}>`, 'Nothing is not a duration'],
    [`override <@${COVER}> 30d`, 'at most 14 days'],
    [`override <@${COVER}> 2h nope`, 'No route `nope`'],
    [`override <@${COVER}> 2h payments covers`, 'After `covers`, mention the person being covered'],
    [`override <@${COVER}> 2h covers <@${COVER}>`, 'cannot cover for themselves'],
    [`override <@${COVER}> 2h payments access`, '`access` is one word too many'],
  ])('answers `%s` with a usage error', async (text, error) => {
    const reply = await command(text);
    expect(reply).toContain(error);
    expect(reply).toContain('Usage: `/countersign override @user <duration like 30m, 2h or 1d> [route] [covers @other]`');
  });

  it('records nothing for a usage error', async () => {
    await eventually(async () => ((await h.sql`select 1 from oncall_overrides`).length === 2 ? true : undefined), 'the two valid overrides only');
  });

  it.each([
    ['@U…, as typed in a command box', `override @${COVER} 30m payments covers @${BACKUP}`],
    ['a bare user id', `override ${COVER} 30m payments covers ${BACKUP}`],
  ])('takes the people as %s, like a mention', async (_form, text) => {
    const before = (await h.sql`select 1 from oncall_overrides`).length;
    expect(await command(text)).toMatch(new RegExp(`^<@${COVER}> covers <@${BACKUP}> \\(whenever they would be on call\\) for route \`payments\``));
    const rows = await h.sql<Array<{ user_id: string; covers: string }>>`select user_id, covers from oncall_overrides order by created_at desc, id`;
    expect(rows).toHaveLength(before + 1);
    expect(rows[0]).toEqual({ user_id: COVER, covers: BACKUP });
  });

  it('still refuses a name that is not an id, and says what to type', async () => {
    expect(await command('override @cover 30m payments')).toContain('or type their user id, like @U0123ABCD');
  });
});
