import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type postgres from 'postgres';
import type { Database } from '../../src/db/client.js';
import { insertEscalation } from '../../src/db/queries/escalations.js';
import {
  LEASE_MS,
  claimCallback,
  claimCardPost,
  markCallbackDelivered,
  releaseCallback,
  releaseCardLease,
  releaseCardPost,
  renewCardPost,
} from '../../src/db/queries/leases.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;
let database: Database;
let sql: postgres.Sql;

beforeAll(async () => {
  db = await createMigratedDb({ max: 10 });
  ({ database, sql } = db);
});
afterAll(async () => {
  await db?.close();
});

/** The flow's clock in these tests: far from the database's, which the leases must never read. */
const NOW = new Date('2031-03-03T08:59:00Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);

async function pending(): Promise<string> {
  const id = randomUUID();
  await insertEscalation(database.db, { id, status: 'pending', digest: 'd', channel: 'C0REFUNDS1', callbackUrl: 'http://127.0.0.1:1/cb' });
  return id;
}

describe('the card post claim', () => {
  it('goes to exactly one of 20 concurrent runs; the others learn until when it is held', async () => {
    const id = await pending();
    const claims = await Promise.all(Array.from({ length: 20 }, () => claimCardPost(database.db, id, NOW)));
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'held').map((c) => (c.kind === 'held' ? c.untilMs : 0))).toEqual(Array(19).fill(NOW.getTime() + LEASE_MS));
    const [row] = await sql`select card_state from escalations where id = ${id}`;
    expect(row!.card_state).toBe('posting');
  });

  it('can be taken again once it lapses (its holder died), and not a moment before', async () => {
    const id = await pending();
    expect((await claimCardPost(database.db, id, NOW)).kind).toBe('claimed');
    expect((await claimCardPost(database.db, id, later(LEASE_MS - 1))).kind).toBe('held');
    expect((await claimCardPost(database.db, id, later(LEASE_MS))).kind).toBe('claimed');
  });

  it('is free at once after a release, and with a lease-only release keeps the "maybe posted" marker', async () => {
    const id = await pending();
    await claimCardPost(database.db, id, NOW);
    await releaseCardLease(database.db, id);
    const [kept] = await sql`select card_state, card_lease_until from escalations where id = ${id}`;
    expect(kept).toEqual({ card_state: 'posting', card_lease_until: null });
    expect((await claimCardPost(database.db, id, NOW)).kind).toBe('claimed');
    await releaseCardPost(database.db, id);
    const [released] = await sql`select card_state from escalations where id = ${id}`;
    expect(released!.card_state).toBe('none');
  });

  it('is done for good once the card is recorded', async () => {
    const id = await pending();
    await sql`update escalations set card_state = 'posted', card_ts = '1.0' where id = ${id}`;
    expect(await claimCardPost(database.db, id, later(10 * LEASE_MS))).toEqual({ kind: 'done' });
  });
});

describe('the callback claim', () => {
  it('goes to exactly one of 20 concurrent runs', async () => {
    const id = await pending();
    const claims = await Promise.all(Array.from({ length: 20 }, () => claimCallback(database.db, id, 'decision', NOW)));
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'held')).toHaveLength(19);
  });

  it('is free again after a failed try releases it, and done for good once delivered, with one agent_notified event', async () => {
    const id = await pending();
    await claimCallback(database.db, id, 'decision', NOW);
    await releaseCallback(database.db, id, 'decision');
    expect((await claimCallback(database.db, id, 'decision', NOW)).kind).toBe('claimed');
    const event = { escalationId: id, executionId: null, type: 'agent_notified' as const, actor: 'system', data: { via: 'callback' } };
    await markCallbackDelivered(database.db, id, 'decision', NOW, event);
    // A second mark (a run that delivered too, or a retry) records nothing more.
    await markCallbackDelivered(database.db, id, 'decision', NOW, event);
    expect(await claimCallback(database.db, id, 'decision', later(10 * LEASE_MS))).toEqual({ kind: 'done' });
    const [n] = await sql`select count(*)::int as n from events where escalation_id = ${id} and type = 'agent_notified'`;
    expect(n!.n).toBe(1);
  });

  it("is held per kind: the decision's delivery does not stand for the review's second callback", async () => {
    const id = await pending();
    expect((await claimCallback(database.db, id, 'decision', NOW)).kind).toBe('claimed');
    await markCallbackDelivered(database.db, id, 'decision', NOW, { escalationId: id, executionId: null, type: 'agent_notified', actor: 'system', data: { via: 'callback' } });
    expect((await claimCallback(database.db, id, 'review', NOW)).kind).toBe('claimed');
  });
});

describe('renewing the card post claim', () => {
  it('extends the claim this run holds, and fails once another run has taken it over', async () => {
    const id = await pending();
    const mine = await claimCardPost(database.db, id, NOW);
    if (mine.kind !== 'claimed') throw new Error('not claimed');
    expect(await renewCardPost(database.db, id, mine.until, later(LEASE_MS + 5_000))).toBe(true);
    // This run stalls past its (renewed) claim; another run takes it over.
    const other = await claimCardPost(database.db, id, later(LEASE_MS + 5_000));
    expect(other.kind).toBe('claimed');
    // The stalled run may no longer post.
    expect(await renewCardPost(database.db, id, later(LEASE_MS + 5_000), later(2 * LEASE_MS))).toBe(false);
  });
});
