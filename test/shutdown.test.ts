import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { bounded, logConnectionErrors } from '../src/shutdown.js';

describe('bounded', () => {
  it('is true for a close that ends in time, failed or not, and false for one that hangs', async () => {
    expect(await bounded(Promise.resolve(), 1000)).toBe(true);
    expect(await bounded(Promise.reject(new Error('already closed')), 1000)).toBe(true);
    expect(await bounded(new Promise(() => {}), 10)).toBe(false);
    expect(await bounded(undefined, 0)).toBe(true);
  });
});

describe('logConnectionErrors', () => {
  it('logs the first error of an outage, then one line a minute counting the repeats', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = { info() {}, debug() {}, error() {}, warn: (obj: object) => void lines.push(obj as Record<string, unknown>) };
    let now = 0;
    const conn = new EventEmitter();
    logConnectionErrors(conn, 'app', log, () => now);
    for (let i = 0; i < 5; i++) conn.emit('error', new Error('connect ECONNREFUSED'));
    expect(lines).toEqual([{ connection: 'app', err: 'connect ECONNREFUSED', repeats: 0 }]);
    now = 60_000;
    conn.emit('error', new Error('connect ECONNREFUSED'));
    expect(lines[1]).toEqual({ connection: 'app', err: 'connect ECONNREFUSED', repeats: 4 });
  });
});
