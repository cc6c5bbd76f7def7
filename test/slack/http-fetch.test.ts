import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackHosts } from '../../src/domain/callback-hosts.js';
import { CallbackRefusedError } from '../../src/errors.js';
import { createHttpFetch } from '../../src/slack/http-fetch.js';
import { startCallbackServer } from '../support/callback-server.js';

// The callbacks' transport with its address guard: every address a name resolves to is judged before connecting.

type Sink = Awaited<ReturnType<typeof startCallbackServer>>;
let sink: Sink;
beforeAll(async () => {
  sink = await startCallbackServer();
});
afterAll(async () => {
  await sink?.close();
});

/** A resolver that answers `names` from this table, as a DNS server under someone else's control might. */
const resolverOf = (names: Record<string, LookupAddress[]>) => (hostname: string, _opts: unknown, cb: (err: NodeJS.ErrnoException | null, a: LookupAddress[]) => void) =>
  setImmediate(() => cb(null, names[hostname] ?? []));

function guardedFetch(allowed: string[], names: Record<string, LookupAddress[]>) {
  const hosts = callbackHosts(allowed);
  return createHttpFetch({
    guard: (address, hostname) => {
      const refused = hosts.refuseAddress(address, hostname);
      return refused ? new CallbackRefusedError(refused) : undefined;
    },
    resolve: resolverOf(names),
  });
}

const post = (f: ReturnType<typeof createHttpFetch>, url: string, redirect: 'manual' | 'follow' = 'manual') =>
  f(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, redirect });

describe('createHttpFetch({ guard })', () => {
  it('refuses to connect when an allowed name resolves to an unlisted loopback address, and sends nothing', async () => {
    const f = guardedFetch(['*.example.test'], { 'rebind.example.test': [{ address: '127.0.0.1', family: 4 }] });
    const err = await post(f, `http://rebind.example.test:${sink.port}/callback`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallbackRefusedError);
    expect((err as Error).message).toBe('127.0.0.1 is a loopback address (rebind.example.test resolves to it): list it in callbacks.allowedHosts to allow it');
    expect(sink.received).toEqual([]);
  });

  it('refuses when any one of the addresses is internal, whichever comes first', async () => {
    const f = guardedFetch(['*.example.test'], {
      'mixed.example.test': [{ address: '93.184.216.34', family: 4 }, { address: '169.254.169.254', family: 4 }],
    });
    await expect(post(f, `http://mixed.example.test:${sink.port}/callback`)).rejects.toThrow(/169\.254\.169\.254 is a metadata address/);
  });

  it('connects when the internal address is listed itself', async () => {
    const f = guardedFetch(['*.example.test', '127.0.0.1'], { 'sink.example.test': [{ address: '127.0.0.1', family: 4 }] });
    const res = await post(f, `http://sink.example.test:${sink.port}/callback`);
    expect(res.status).toBe(204);
    expect(sink.received).toHaveLength(1);
  });

  it('never hands a request to the global fetch, which would connect unguarded', async () => {
    const f = guardedFetch(['127.0.0.1'], {});
    await expect(post(f, sink.url, 'follow')).rejects.toThrow(/guarded fetch/);
  });
});
