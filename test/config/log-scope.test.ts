import { describe, expect, it } from 'vitest';
import { idsResolver } from '../../src/config/log-scope.js';

const A = '0b0f4f7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const B = '1b0f4f7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const C = '2b0f4f7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';

/** A lookup that records each escalation id it is asked for, answering from `rows`. */
function counting(rows: Record<string, string>) {
  const asked: string[] = [];
  const lookup = async (id: string) => {
    asked.push(id);
    return rows[id];
  };
  return { asked, lookup };
}

describe('the execution ids of a job or click', () => {
  it('are read once per escalation, however many jobs follow', async () => {
    const { asked, lookup } = counting({ [A]: 'exec-a' });
    const ids = idsResolver(lookup);
    for (let i = 0; i < 3; i++) expect(await ids(A)).toEqual({ escalationId: A, executionId: 'exec-a' });
    expect(asked).toEqual([A]);
  });

  it('share one read between concurrent jobs of one escalation', async () => {
    const { asked, lookup } = counting({ [A]: 'exec-a' });
    const ids = idsResolver(lookup);
    const all = await Promise.all([ids(A), ids(A), ids(A)]);
    expect(all.map((b) => b.executionId)).toEqual(['exec-a', 'exec-a', 'exec-a']);
    expect(asked).toEqual([A]);
  });

  it('are read again while the escalation is not found, since its row may not be committed yet', async () => {
    const rows: Record<string, string> = {};
    const { asked, lookup } = counting(rows);
    const ids = idsResolver(lookup);
    expect(await ids(A)).toEqual({ escalationId: A, executionId: undefined });
    rows[A] = 'exec-a';
    expect(await ids(A)).toEqual({ escalationId: A, executionId: 'exec-a' });
    expect(asked).toEqual([A, A]);
  });

  it('keep only the most recent escalations, past the size given', async () => {
    const { asked, lookup } = counting({ [A]: 'exec-a', [B]: 'exec-b', [C]: 'exec-c' });
    const ids = idsResolver(lookup, 250, 2);
    await ids(A);
    await ids(B);
    await ids(C);
    await ids(C);
    await ids(A);
    expect(asked).toEqual([A, B, C, A]);
  });

  it("take a caller's own execution id without keeping it for other callers", async () => {
    const { asked, lookup } = counting({ [A]: 'exec-a' });
    const ids = idsResolver(lookup);
    expect(await ids(A, 'claimed-by-a-job')).toEqual({ escalationId: A, executionId: 'claimed-by-a-job' });
    expect(await ids(A)).toEqual({ escalationId: A, executionId: 'exec-a' });
    expect(asked).toEqual([A]);
  });

  it('never hold up the work when the read fails or is slow', async () => {
    const failing = idsResolver(async () => {
      throw new Error('Postgres is down');
    });
    expect(await failing(A)).toEqual({ escalationId: A, executionId: undefined });
    const slow = idsResolver(() => new Promise<string>(() => {}), 5);
    expect(await slow(A)).toEqual({ escalationId: A, executionId: undefined });
    expect(await slow('not-a-uuid')).toEqual({});
  });
});
