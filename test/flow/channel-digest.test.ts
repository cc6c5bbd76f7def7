import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { getEscalation } from '../../src/db/queries/escalations.js';
import { closeDigestIfDrained, joinDigest, openDigest } from '../../src/db/queries/channel-digests.js';
import { claimCardPost, releaseCardPost } from '../../src/db/queries/leases.js';
import { joinChannelDigest, runDigest } from '../../src/flow/channel-digest.js';
import type { SchedulerPort } from '../../src/flow/ports.js';
import { Redis } from 'ioredis';
import { createPacer } from '../../src/queue/pacer.js';
import { createSlackPort, createWebClient } from '../../src/slack/web-port.js';
import { SlackCallError } from '../../src/errors.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { exampleConfigText } from '../support/harness.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';
import { REDIS_URL, dropRedisPrefix, uniqueName } from '../support/services.js';

/** The example config with a digest past 5 waiting cards. */
const config = parseConfig(exampleConfigText.replace('  postBurst: 3\n', '  postBurst: 3\n  digest: { backlog: 5 }\n'), 'test config');
const CHANNEL = 'C0REFUNDS1';

let db: MigratedDb;
/** A second pool: another replica's handle on the same database. */
let other: Database;
let now: Date;
let fake: FakeSlack;
let redis: Redis;
const prefix = uniqueName('cst');

beforeAll(async () => {
  fake = await startFakeSlack();
  redis = new Redis(REDIS_URL);
  db = await createMigratedDb({ max: 8 });
  other = await openDatabase({ url: db.url, dataDir: '/nonexistent', max: 8 });
  const [r] = await db.sql`select now() as now`;
  now = r!.now as Date;
});
afterAll(async () => {
  await fake?.close();
  if (redis) {
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
  }
  await other?.close();
  await db?.close();
});

/** Pending refunds waiting for their card in one channel, as intake leaves them after a pacer wait. */
async function waiting(n: number, channel = CHANNEL, over: { urgency?: string; route?: string } = {}): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  for (const id of ids) {
    await db.sql`insert into escalations (id, status, card_state, channel, route, urgency, action_type, created_at)
      values (${id}, 'pending', 'none', ${channel}, ${over.route ?? 'refunds'}, ${over.urgency ?? 'normal'}, 'payments.refund', ${now})`;
  }
  return ids;
}

function portsOf(handle: Database, enqueued: string[]) {
  return { db: handle.db, scheduler: { enqueueDigest: async (id: string) => void enqueued.push(id) } as unknown as SchedulerPort, config: { current: () => config }, now: () => now };
}

describe('joining a channel digest', () => {
  it('leaves the card to wait its turn below the backlog', async () => {
    const [id] = await waiting(3, 'C0BELOW001');
    const enqueued: string[] = [];
    const row = (await getEscalation(db.database.db, id!))!;
    expect(await joinChannelDigest(portsOf(db.database, enqueued), row)).toBe(false);
    expect(enqueued).toEqual([]);
    expect(await db.sql`select 1 from channel_digests where channel = 'C0BELOW001'`).toHaveLength(0);
  });

  it('opens one digest per channel burst when two replicas race, and every card joins it once', async () => {
    const ids = await waiting(40, 'C0RACE0001');
    const enqueued: string[] = [];
    const rows = await Promise.all(ids.map((id) => getEscalation(db.database.db, id)));
    const joined = await Promise.all(rows.map((row, i) => joinChannelDigest(portsOf(i % 2 ? other : db.database, enqueued), row!)));
    expect(joined.every(Boolean)).toBe(true);
    const digests = await db.sql`select id from channel_digests where channel = 'C0RACE0001'`;
    expect(digests).toHaveLength(1);
    expect(enqueued).toEqual([digests[0]!.id]);
    const states = await db.sql`select card_state, digest_id from escalations where channel = 'C0RACE0001'`;
    expect(states.every((s) => s.card_state === 'digest' && s.digest_id === digests[0]!.id)).toBe(true);
    const events = await db.sql`select escalation_id from events where type = 'card_digested' and data ->> 'channel' = 'C0RACE0001'`;
    expect(events.map((e) => e.escalation_id).sort()).toEqual([...ids].sort());
  });

  it('never puts a card in a digest while its post is claimed, and never posts one that is in a digest', async () => {
    const ids = await waiting(6, 'C0CLAIM001');
    const [claimed, digested] = ids;
    expect((await claimCardPost(db.database.db, claimed!, now, 60_000)).kind).toBe('claimed');
    const enqueued: string[] = [];
    expect(await joinChannelDigest(portsOf(db.database, enqueued), (await getEscalation(db.database.db, claimed!))!)).toBe(false);
    expect(await joinChannelDigest(portsOf(db.database, enqueued), (await getEscalation(db.database.db, digested!))!)).toBe(true);
    // A stale run of the card job: the claim says done, and giving a claim back leaves the digest alone.
    expect((await claimCardPost(db.database.db, digested!, now, 60_000)).kind).toBe('done');
    await releaseCardPost(db.database.db, digested!);
    expect((await getEscalation(db.database.db, digested!))!.cardState).toBe('digest');
  });

  it('takes over the card claim its caller holds (intake’s fresh one) in the join, and no one else’s', async () => {
    const ids = await waiting(6, 'C0OWNCLAIM');
    const enqueued: string[] = [];
    expect(await joinChannelDigest(portsOf(db.database, enqueued), (await getEscalation(db.database.db, ids[0]!))!)).toBe(true);
    const claim = await claimCardPost(db.database.db, ids[1]!, now, 60_000);
    if (claim.kind !== 'claimed') throw new Error('not claimed');
    const row = (await getEscalation(db.database.db, ids[1]!))!;
    // Another run's claim (this caller holds none, or a different one): it stays out.
    expect(await joinChannelDigest(portsOf(db.database, enqueued), row)).toBe(false);
    expect(await joinChannelDigest(portsOf(db.database, enqueued), row, new Date(claim.until.getTime() - 1))).toBe(false);
    expect(await joinChannelDigest(portsOf(db.database, enqueued), row, claim.until)).toBe(true);
    const [after] = await db.sql`select card_state, card_lease_until from escalations where id = ${ids[1]!}`;
    expect(after).toEqual({ card_state: 'digest', card_lease_until: null });
  });

  it('keeps high and critical escalations and chained routes out of the digest: their card is what pages', async () => {
    await waiting(6, 'C0URGENT01');
    const [urgent] = await waiting(1, 'C0URGENT01', { urgency: 'critical' });
    const [chained] = await waiting(1, 'C0URGENT01', { route: 'payments-urgent' });
    const enqueued: string[] = [];
    for (const id of [urgent!, chained!]) expect(await joinChannelDigest(portsOf(db.database, enqueued), (await getEscalation(db.database.db, id))!)).toBe(false);
  });

  it('closes only once nothing in it waits, and a join racing the close either lands before it or opens the next digest', async () => {
    const [first, second] = await waiting(2, 'C0CLOSE001');
    const opened = await openDigest(db.database.db, randomUUID(), 'C0CLOSE001', now);
    const d = opened!.row.id;
    const ev = (id: string) => ({ escalationId: id, type: 'card_digested', actor: 'system' }) as const;
    expect(await joinDigest(db.database.db, d, first!, now, ev(first!))).toBe(true);
    const closed = { type: 'digest_closed', actor: 'system' } as const;
    expect(await closeDigestIfDrained(db.database.db, d, now, closed)).toBe(false);
    await db.sql`update escalations set status = 'approved' where id = ${first!}`;
    // The close and a join at once: exactly one of them wins, never a member left in a closed digest.
    const [wasClosed, wasJoined] = await Promise.all([closeDigestIfDrained(other.db, d, now, closed), joinDigest(db.database.db, d, second!, now, ev(second!))]);
    expect(wasClosed).not.toBe(wasJoined);
    const [row] = await db.sql`select closed_at from channel_digests where id = ${d}`;
    const stranded = await db.sql`select 1 from escalations e join channel_digests c on c.id = e.digest_id where c.closed_at is not null and e.status = 'pending'`;
    expect(stranded).toHaveLength(0);
    expect(row!.closed_at !== null).toBe(wasClosed);
  });
});

describe('posting a channel digest', () => {
  const LEASE = 1_000;
  const silent = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
  const ports = (at: () => Date) => ({
    db: db.database.db,
    slack: createSlackPort(createWebClient({ token: 'xoxb-test', slackApiUrl: fake.url })),
    pacer: createPacer(redis, () => ({ perSecond: 100, burst: 100, prefix })),
    config: { current: () => config },
    log: silent,
    now: at,
    leaseMs: LEASE,
    scheduler: { enqueueAlert: async (a: { kind: string; escalationId?: string }) => void alerts.push(a) } as unknown as SchedulerPort,
  });
  const alerts: Array<{ kind: string; escalationId?: string }> = [];
  /** An open digest in `channel` with six members, as a burst leaves it. */
  async function digestIn(channel: string): Promise<string> {
    const ids = await waiting(6, channel);
    const enqueued: string[] = [];
    for (const id of ids) expect(await joinChannelDigest(portsOf(db.database, enqueued), (await getEscalation(db.database.db, id))!)).toBe(true);
    return enqueued[0]!;
  }
  const digestPosts = (channel: string) =>
    fake.callsTo('chat.postMessage').filter((c) => c.args.channel === channel && (c.args.metadata as { event_type?: string } | undefined)?.event_type === 'countersign_digest');

  it('finds its message by metadata after a post whose outcome was unknown (a 5xx once Slack had it), instead of posting twice', async () => {
    const channel = 'C0LOST0001';
    const id = await digestIn(channel);
    const unhook = fake.onCall('chat.postMessage', (c) => (c.args.channel === channel ? 'fail500' : undefined));
    await expect(runDigest(ports(() => now), id)).rejects.toBeInstanceOf(SlackCallError);
    unhook();
    // Slack has it; the bot does not know. Its claim holds until it lapses.
    expect(fake.messages(channel)).toHaveLength(1);
    expect((await db.sql`select ts from channel_digests where id = ${id}`)[0]!.ts).toBeNull();
    expect(await runDigest(ports(() => now), id)).toMatchObject({ kind: 'wait' });
    expect(digestPosts(channel)).toHaveLength(1);
    // Lapsed: the next run looks first, finds it, and records it.
    const later = new Date(now.getTime() + LEASE + 1);
    expect(await runDigest(ports(() => later), id)).toEqual({ kind: 'wait', ms: 1 });
    expect(digestPosts(channel)).toHaveLength(1);
    const [row] = await db.sql`select ts from channel_digests where id = ${id}`;
    expect(row!.ts).toBe(fake.messages(channel)[0]!.ts);
    const [ev] = await db.sql`select data from events where type = 'digest_posted' and data ->> 'digestId' = ${id}`;
    expect(ev!.data).toMatchObject({ reconciled: true, ts: row!.ts });
    // What the lost post showed is not known: the next run brings it up to date.
    await runDigest(ports(() => later), id);
    expect(fake.callsTo('chat.update').filter((c) => c.args.channel === channel && c.args.ts === row!.ts)).toHaveLength(1);
  });

  it('posts it once when the unknown post never reached Slack', async () => {
    const channel = 'C0NEVER001';
    const id = await digestIn(channel);
    fake.fail500('chat.postMessage', { channel });
    await expect(runDigest(ports(() => now), id)).rejects.toBeInstanceOf(SlackCallError);
    expect(fake.messages(channel)).toHaveLength(0);
    const later = new Date(now.getTime() + LEASE + 1);
    const before = fake.callsTo('conversations.history').length;
    expect(await runDigest(ports(() => later), id)).toMatchObject({ kind: 'wait' });
    expect(fake.callsTo('conversations.history').length).toBe(before + 1);
    expect(fake.messages(channel)).toHaveLength(1);
    expect(digestPosts(channel)).toHaveLength(2);
    expect((await db.sql`select ts from channel_digests where id = ${id}`)[0]!.ts).toBe(fake.messages(channel)[0]!.ts);
  });

  it('gives it up when Slack refuses it for good: each waiting member gets its card_post_failed record and alert, and the digest stops', async () => {
    const channel = 'C0GONE0001';
    const id = await digestIn(channel);
    const members = (await db.sql<{ id: string }[]>`select id from escalations where digest_id = ${id}`).map((r) => r.id);
    fake.failWith('chat.postMessage', { channel, error: 'channel_not_found' });
    expect(await runDigest(ports(() => now), id)).toEqual({ kind: 'done' });
    const failed = await db.sql<{ escalation_id: string }[]>`select escalation_id from events where type = 'card_post_failed' and escalation_id = any(${members}::uuid[])`;
    expect(failed.map((f) => f.escalation_id).sort()).toEqual([...members].sort());
    expect(alerts.filter((a) => a.kind === 'card_post_failed' && members.includes(a.escalationId!))).toHaveLength(members.length);
    expect((await db.sql`select settled_at from channel_digests where id = ${id}`)[0]!.settled_at).not.toBeNull();
    // Still waiting for a person (App Home), and for the fail-safe deadline.
    expect(await db.sql`select 1 from escalations where id = any(${members}::uuid[]) and status = 'pending'`).toHaveLength(members.length);
    fake.clearFaults('chat.postMessage');
  });
});
