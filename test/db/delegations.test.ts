import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delegationsFrom, delegationsFromShared, delegationsTo, endLapsedDelegations, revokeDelegations, setDelegation } from '../../src/db/queries/delegations.js';
import type { Db } from '../../src/db/client.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

const DAY = 86_400_000;
/** Every lookup is by the instant given, never by the clock. */
const NOW = new Date('2026-06-15T12:00:00Z');
const later = (days: number) => new Date(NOW.getTime() + days * DAY);
let m: MigratedDb;

beforeAll(async () => {
  m = await createMigratedDb();
});
afterAll(async () => {
  await m.close();
});

const set = (delegator: string, delegate: string, days: number, startsAt = NOW) =>
  setDelegation(m.database.db, { delegator, delegate, startsAt, endsAt: later(days), until: later(days - 1).toISOString().slice(0, 10), timezone: 'UTC' });
const eventsOf = (type: string, delegator: string) => m.sql`select actor, data from events where type = ${type} and data->>'delegator' = ${delegator} order by id`;

describe('delegations in Postgres', () => {
  it('are in force from their start until their end, for pages and for decisions', async () => {
    await set('U0AWAY00001', 'U0COVER0001', 3);
    expect((await delegationsFrom(m.database.db, ['U0AWAY00001'], NOW)).map((d) => d.delegate)).toEqual(['U0COVER0001']);
    expect((await delegationsTo(m.database.db, 'U0COVER0001', later(2.9))).map((d) => d.delegator)).toEqual(['U0AWAY00001']);
    expect(await delegationsTo(m.database.db, 'U0COVER0001', later(3))).toEqual([]);
    expect(await delegationsTo(m.database.db, 'U0COVER0001', new Date(NOW.getTime() - 1))).toEqual([]);
  });

  it('keep one delegate per person: a new one replaces the open one, recorded', async () => {
    await set('U0AWAY00002', 'U0COVER0001', 3);
    const { replaced } = await set('U0AWAY00002', 'U0COVER0002', 5, later(1));
    expect(replaced.map((d) => d.delegate)).toEqual(['U0COVER0001']);
    expect((await delegationsFrom(m.database.db, ['U0AWAY00002'], later(2))).map((d) => d.delegate)).toEqual(['U0COVER0002']);
    expect((await eventsOf('delegation_ended', 'U0AWAY00002')).map((e) => e.data)).toEqual([expect.objectContaining({ delegate: 'U0COVER0001', reason: 'replaced' })]);
    expect(await eventsOf('delegation_set', 'U0AWAY00002')).toHaveLength(2);
  });

  it('end when revoked, once', async () => {
    await set('U0AWAY00003', 'U0COVER0001', 3);
    expect(await revokeDelegations(m.database.db, 'U0AWAY00003', later(1))).toHaveLength(1);
    expect(await revokeDelegations(m.database.db, 'U0AWAY00003', later(1))).toHaveLength(0);
    expect(await delegationsTo(m.database.db, 'U0COVER0001', later(1.5)).then((r) => r.map((d) => d.delegator))).not.toContain('U0AWAY00003');
    expect((await eventsOf('delegation_ended', 'U0AWAY00003')).map((e) => [e.actor, e.data.reason])).toEqual([['U0AWAY00003', 'revoked']]);
  });

  it('are recorded as lapsed once past their end date, once each, by the instant passed', async () => {
    await set('U0AWAY00004', 'U0COVER0003', 2);
    const before = await endLapsedDelegations(m.database.db, later(1));
    expect((await eventsOf('delegation_ended', 'U0AWAY00004'))).toHaveLength(0);
    const ended = await endLapsedDelegations(m.database.db, later(10));
    expect(ended).toBeGreaterThan(before);
    expect(await endLapsedDelegations(m.database.db, later(10))).toBe(0);
    const [lapsed] = await eventsOf('delegation_ended', 'U0AWAY00004');
    expect(lapsed).toMatchObject({ actor: 'system', data: { reason: 'lapsed', endedAt: later(2).toISOString() } });
  });

  it('refuse a delegation to oneself in the table too', async () => {
    await expect(set('U0AWAY00005', 'U0AWAY00005', 2)).rejects.toThrow();
  });
});

/** The app's handle, counting the reads it starts (each `select` is one statement to Postgres). */
function counting(): { db: Db; reads: () => number } {
  let n = 0;
  const db = new Proxy(m.database.db, {
    get(target, key, receiver) {
      if (key === 'select') n++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { db, reads: () => n };
}

describe('delegations read for pages, shared by concurrent lookups', () => {
  it('gives concurrent lookups of the same people one statement, each answered at its own instant', async () => {
    await set('U0AWAY00010', 'U0COVER0010', 3);
    const c = counting();
    const people = ['U0AWAY00010', 'U0ONCALL010'];
    const [atNow, nearEnd, afterEnd] = await Promise.all([
      delegationsFromShared(c.db, people, NOW),
      delegationsFromShared(c.db, [...people].reverse(), later(2.9)),
      delegationsFromShared(c.db, people, later(3.5)),
    ]);
    expect(c.reads()).toBe(1);
    expect(atNow.map((d) => d.delegate)).toEqual(['U0COVER0010']);
    expect(nearEnd.map((d) => d.delegate)).toEqual(['U0COVER0010']);
    // Out of force at its own instant, as a read of its own would say.
    expect(afterEnd).toEqual(await delegationsFrom(m.database.db, people, later(3.5)));
    expect(afterEnd).toEqual([]);
  });

  it('starts a new statement once the earlier one has answered, and for other people at once', async () => {
    const c = counting();
    await delegationsFromShared(c.db, ['U0AWAY00011'], NOW);
    await Promise.all([delegationsFromShared(c.db, ['U0AWAY00011'], NOW), delegationsFromShared(c.db, ['U0AWAY00012'], NOW)]);
    expect(c.reads()).toBe(3);
  });

  it('shows a delegation set while a read is on its way to every read after the set', async () => {
    const c = counting();
    const before = delegationsFromShared(c.db, ['U0AWAY00013'], NOW);
    await setDelegation(c.db, { delegator: 'U0AWAY00013', delegate: 'U0COVER0013', startsAt: NOW, endsAt: later(2), until: later(1).toISOString().slice(0, 10), timezone: 'UTC' });
    expect((await delegationsFromShared(c.db, ['U0AWAY00013'], NOW)).map((d) => d.delegate)).toEqual(['U0COVER0013']);
    await before;
    await revokeDelegations(c.db, 'U0AWAY00013', later(1));
    expect(await delegationsFromShared(c.db, ['U0AWAY00013'], later(1))).toEqual([]);
  });
});
