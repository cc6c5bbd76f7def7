import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetOverridesInFlight, insertOverride, overridesBetween, overridesBetweenShared } from '../../src/db/queries/oncall-overrides.js';
import type { Route } from '../../src/domain/config.js';
import { createOverride } from '../../src/flow/oncall.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

const HOUR = 3_600_000;
/** Lookups are by the instants given, never by the clock. */
const NOW = new Date('2026-06-15T12:00:00Z');
let m: MigratedDb;

beforeAll(async () => {
  m = await createMigratedDb();
});
afterAll(async () => {
  await m.close();
});

const override = (route: string, userId: string, from: Date) => ({ route, userId, startsAt: from, endsAt: new Date(from.getTime() + HOUR), createdBy: 'U0APPROVER1' });

describe('on-call overrides shared by concurrent lookups', () => {
  it('gives concurrent lookups for one route one statement and the same rows as a lookup of their own', async () => {
    const now = NOW;
    await insertOverride(m.database.db, override('shared', 'U0COVER0001', now));
    const until = new Date(now.getTime() + 24 * HOUR);
    const a = overridesBetweenShared(m.database.db, 'shared', now, until);
    const b = overridesBetweenShared(m.database.db, 'shared', now, until);
    const other = overridesBetweenShared(m.database.db, 'another-route', now, until);
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    const own = await overridesBetween(m.database.db, 'shared', now, until);
    expect((await a).map((r) => r.userId)).toEqual(own.map((r) => r.userId));
    expect(await other).toEqual([]);
  });

  it('starts a new statement once the earlier one has answered', async () => {
    const now = NOW;
    const until = new Date(now.getTime() + HOUR);
    const first = overridesBetweenShared(m.database.db, 'sequential', now, until);
    await first;
    expect(overridesBetweenShared(m.database.db, 'sequential', now, until)).not.toBe(first);
  });

  it('lets a lookup after forgetOverridesInFlight start its own statement while the earlier one still runs', async () => {
    const now = NOW;
    const until = new Date(now.getTime() + HOUR);
    const before = overridesBetweenShared(m.database.db, 'forgotten', now, until);
    forgetOverridesInFlight(m.database.db, 'forgotten');
    const after = overridesBetweenShared(m.database.db, 'forgotten', now, until);
    expect(after).not.toBe(before);
    await Promise.all([before, after]);
  });

  it('shows an override made with createOverride to the next lookup, even with a lookup in flight', async () => {
    const now = NOW;
    const until = new Date(now.getTime() + 24 * HOUR);
    const ports = { db: m.database.db };
    const route = { name: 'written' } as Route;
    const before = overridesBetweenShared(m.database.db, 'written', now, until);
    await createOverride(ports, { route, userId: 'U0NEWCOVER1', from: now, durationMs: HOUR, by: 'U0APPROVER1' });
    const after = await overridesBetweenShared(m.database.db, 'written', now, until);
    expect(after.map((r) => r.userId)).toContain('U0NEWCOVER1');
    await before;
  });
});
