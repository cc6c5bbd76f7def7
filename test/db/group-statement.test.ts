import { describe, expect, it } from 'vitest';
import { GroupStatement } from '../../src/db/queries/group-statement.js';

/** A fake query that records the statements it was asked to run. */
function recorder(opts: { failMany?: boolean; bad?: string } = {}) {
  const many: string[][] = [];
  const one: string[] = [];
  return {
    many,
    one,
    runMany: async (inputs: string[]) => {
      many.push([...inputs]);
      if (opts.failMany) throw new Error('group failed');
      return new Map(inputs.filter((i) => i !== 'absent').map((i) => [i, `many:${i}`]));
    },
    runOne: async (input: string) => {
      one.push(input);
      if (input === opts.bad) throw new Error(`bad ${input}`);
      return `one:${input}`;
    },
  };
}

describe('group statements', () => {
  it('run a lone request on its own, without waiting for company', async () => {
    const r = recorder();
    const g = new GroupStatement({ ...r, repeatKeys: false, missing: 'missing' });
    expect(await g.add('a', 'a')).toBe('one:a');
    expect(r.many).toEqual([]);
  });

  it('put concurrent requests in one statement and answer each from it, absent keys with the missing value', async () => {
    const r = recorder();
    const g = new GroupStatement({ ...r, repeatKeys: false, missing: 'missing' });
    const out = await Promise.all(['a', 'b', 'absent'].map((k) => g.add(k, k)));
    expect(out).toEqual(['many:a', 'many:b', 'missing']);
    expect(r.many).toEqual([['a', 'b', 'absent']]);
  });

  it('never put one key twice in a guarded statement, nor mix shapes', async () => {
    const r = recorder();
    const g = new GroupStatement({ ...r, repeatKeys: false, missing: 'missing', shapeOf: (i: string) => i.slice(0, 1), loneViaMany: true });
    await Promise.all(['a1', 'a1', 'b1', 'a2'].map((k) => g.add(k, k)));
    for (const statement of r.many) {
      expect(new Set(statement).size).toBe(statement.length);
      expect(new Set(statement.map((i) => i[0])).size).toBe(1);
    }
    expect(r.many.flat().sort()).toEqual(['a1', 'a1', 'a2', 'b1']);
    expect(r.one).toEqual([]);
  });

  it('retry a failed group one by one, so only the bad request fails', async () => {
    const r = recorder({ failMany: true, bad: 'b' });
    const g = new GroupStatement({ ...r, repeatKeys: false, missing: 'missing' });
    const out = await Promise.allSettled(['a', 'b', 'c'].map((k) => g.add(k, k)));
    expect(out.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual(['one:a', 'bad b', 'one:c']);
  });

  it('fail a lone request that went through the group statement with its own error', async () => {
    const r = recorder({ failMany: true });
    const g = new GroupStatement({ ...r, repeatKeys: false, missing: 'missing', loneViaMany: true });
    await expect(g.add('a', 'a')).rejects.toThrow('group failed');
    expect(r.one).toEqual([]);
  });
});
