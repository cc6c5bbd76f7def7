import { describe, expect, it } from 'vitest';
import { turnBatcher } from '../../src/queue/turn-batch.js';

describe('the turn batcher', () => {
  it('sends requests made in one turn together, and those made while a batch is on its way in the next one', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    const double = turnBatcher<number, number>(100, async (batch) => {
      batches.push(batch.map((w) => w.input));
      if (batches.length === 1) await first;
      batch.forEach((w) => w.resolve(w.input * 2));
    });
    const early = [1, 2, 3].map(double);
    await new Promise((r) => setImmediate(r));
    const late = [4, 5].map(double);
    release();
    expect(await Promise.all([...early, ...late])).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('never sends more than its maximum at once', async () => {
    const sizes: number[] = [];
    const echo = turnBatcher<number, number>(3, async (batch) => {
      sizes.push(batch.length);
      batch.forEach((w) => w.resolve(w.input));
    });
    expect(await Promise.all(Array.from({ length: 7 }, (_, i) => echo(i)))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(sizes).toEqual([3, 3, 1]);
  });

  it('rejects every request a failed batch left unsettled, keeps the ones it settled, and goes on with the next batch', async () => {
    let calls = 0;
    const flaky = turnBatcher<number, number>(10, async (batch) => {
      calls++;
      if (calls === 1) {
        batch[0]!.resolve(0);
        throw new Error('redis went away');
      }
      batch.forEach((w) => w.resolve(w.input));
    });
    const results = await Promise.allSettled([flaky(1), flaky(2)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(await flaky(3)).toBe(3);
  });

  it('with eager, sends a lone request at once and the rest of its turn together at the end of the turn', async () => {
    const batches: number[][] = [];
    const echo = turnBatcher<number, number>(
      100,
      async (batch) => {
        batches.push(batch.map((w) => w.input));
        batch.forEach((w) => w.resolve(w.input));
      },
      { eager: true },
    );
    const first = echo(1);
    // Sent before the caller's turn ends: the caller's own work then overlaps the round trip.
    expect(batches).toEqual([[1]]);
    const rest = [2, 3, 4].map(echo);
    expect(batches).toEqual([[1]]);
    expect(await Promise.all([first, ...rest])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('without eager, waits for the end of the turn even when idle', async () => {
    const batches: number[][] = [];
    const echo = turnBatcher<number, number>(100, async (batch) => {
      batches.push(batch.map((w) => w.input));
      batch.forEach((w) => w.resolve(w.input));
    });
    const first = echo(1);
    expect(batches).toEqual([]);
    expect(await first).toBe(1);
    expect(batches).toEqual([[1]]);
  });

  it('with eager, keeps at most two batches on their way and sends what waited once one returns', async () => {
    const batches: number[][] = [];
    const releases: Array<() => void> = [];
    const held = turnBatcher<number, number>(
      100,
      async (batch) => {
        batches.push(batch.map((w) => w.input));
        await new Promise<void>((r) => releases.push(r));
        batch.forEach((w) => w.resolve(w.input));
      },
      { eager: true },
    );
    const a = held(1);
    const b = [2, 3].map(held);
    await new Promise((r) => setImmediate(r));
    const c = [4, 5].map(held);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1], [2, 3]]);
    releases[0]!();
    await a;
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[1], [2, 3], [4, 5]]);
    releases[1]!();
    releases[2]!();
    expect(await Promise.all([...b, ...c])).toEqual([2, 3, 4, 5]);
  });
});
