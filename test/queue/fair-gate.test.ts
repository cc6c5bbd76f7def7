import { describe, expect, it } from 'vitest';
import { ShuttingDownError } from '../../src/errors.js';
import { FairGate } from '../../src/queue/fair-gate.js';

/** Work that runs until `finish` is called, recording when it started. */
function controlled(started: string[]) {
  const finishers = new Map<string, () => void>();
  const work = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name);
      finishers.set(name, () => resolve(name));
    });
  const finish = async (name: string) => {
    // Work handed a slot starts a microtask or two later.
    for (let i = 0; i < 5 && !finishers.has(name); i++) await Promise.resolve();
    finishers.get(name)!();
    // Let the gate hand the slot on (a few microtask turns).
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { work, finish };
}

describe('the fair gate', () => {
  it('runs no more than its capacity at once', async () => {
    const started: string[] = [];
    const { work, finish } = controlled(started);
    const gate = new FairGate(2);
    const all = ['a1', 'a2', 'a3', 'a4'].map((n) => gate.run('a', work(n)));
    await Promise.resolve();
    expect(started).toEqual(['a1', 'a2']);
    expect(gate.waiting).toBe(2);
    await finish('a1');
    expect(started).toEqual(['a1', 'a2', 'a3']);
    await finish('a2');
    await finish('a3');
    await finish('a4');
    expect(await Promise.all(all)).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(gate.running).toBe(0);
  });

  it('serves a quiet lane before the rest of a busy lane that queued first', async () => {
    const started: string[] = [];
    const { work, finish } = controlled(started);
    const gate = new FairGate(1);
    const runs = [...['b1', 'b2', 'b3', 'b4'].map((n) => gate.run('burst', work(n))), gate.run('quiet', work('q1'))];
    await Promise.resolve();
    for (const n of ['b1', 'b2', 'q1', 'b3', 'b4']) await finish(n);
    await Promise.all(runs);
    expect(started).toEqual(['b1', 'b2', 'q1', 'b3', 'b4']);
  });

  it('takes the lanes in turn, one job each', async () => {
    const started: string[] = [];
    const { work, finish } = controlled(started);
    const gate = new FairGate(1);
    const runs = [gate.run('x', work('x0')), ...['x1', 'x2'].map((n) => gate.run('x', work(n))), ...['y1', 'y2'].map((n) => gate.run('y', work(n))), gate.run('z', work('z1'))];
    await Promise.resolve();
    for (const n of ['x0', 'x1', 'y1', 'z1', 'x2', 'y2']) await finish(n);
    await Promise.all(runs);
    expect(started).toEqual(['x0', 'x1', 'y1', 'z1', 'x2', 'y2']);
  });

  it('frees its slot when the work fails', async () => {
    const gate = new FairGate(1);
    await expect(gate.run('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run('a', async () => 'next')).toBe('next');
  });

  it('on close, refuses what waits and what comes, and lets what runs finish', async () => {
    const started: string[] = [];
    const { work, finish } = controlled(started);
    const gate = new FairGate(1);
    const running = gate.run('a', work('a1'));
    const waiting = gate.run('a', work('a2'));
    await Promise.resolve();
    gate.close();
    await expect(waiting).rejects.toBeInstanceOf(ShuttingDownError);
    await expect(gate.run('b', work('b1'))).rejects.toBeInstanceOf(ShuttingDownError);
    await finish('a1');
    expect(await running).toBe('a1');
    expect(started).toEqual(['a1']);
  });

  it('tells how long the longest waiter has waited, by the clock it is given', async () => {
    const started: string[] = [];
    const { work, finish } = controlled(started);
    let clock = 1_000;
    const gate = new FairGate(1, () => clock);
    const runs = [gate.run('a', work('a1'))];
    expect(gate.oldestWaitMs()).toBe(0);
    runs.push(gate.run('a', work('a2')));
    clock = 1_250;
    runs.push(gate.run('b', work('b1')));
    clock = 1_400;
    expect(gate.oldestWaitMs()).toBe(400);
    await finish('a1');
    // a2 runs; b1, queued at 1,250, is now the longest waiter.
    expect(gate.oldestWaitMs()).toBe(150);
    await finish('a2');
    await finish('b1');
    await Promise.all(runs);
    expect(gate.oldestWaitMs()).toBe(0);
  });
});
