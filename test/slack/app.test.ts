import { HTTPReceiver, LogLevel, type CustomRoute } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactRoutes } from '../../src/http/exact-routes.js';
import { routeExactPathsFirst } from '../../src/slack/app.js';

const answer =
  (text: string): CustomRoute['handler'] =>
  (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${text} ${JSON.stringify(req.params ?? null)}`);
  };

const routes: CustomRoute[] = [
  { path: '/api/authorize', method: ['POST'], handler: answer('authorize') },
  { path: '/healthz', method: 'get', handler: answer('health') },
  { path: '/api/escalations/:id', method: ['GET'], handler: answer('escalation') },
  // After a pattern: Bolt's order decides, so it is left to Bolt.
  { path: '/metrics', method: ['GET'], handler: answer('metrics') },
];

describe('the custom routes answered by exact path (exactRoutes)', () => {
  it('are the plain paths before the first pattern, by upper-case method', () => {
    const exact = exactRoutes(routes);
    expect([...exact.keys()]).toEqual(['/api/authorize', '/healthz']);
    expect([...exact.get('/healthz')!.keys()]).toEqual(['GET']);
  });

  it('keep the first handler for a path and method listed twice, as Bolt does', () => {
    const first = answer('first');
    const exact = exactRoutes([
      { path: '/x', method: 'POST', handler: first },
      { path: '/x', method: 'POST', handler: answer('second') },
    ]);
    expect(exact.get('/x')!.get('POST')).toBe(first);
  });
});

describe('a receiver routing exact paths first', () => {
  let receiver: HTTPReceiver;
  let base: string;
  beforeAll(async () => {
    receiver = new HTTPReceiver({ signingSecret: 'secret', customRoutes: routes, logLevel: LogLevel.ERROR });
    routeExactPathsFirst(receiver, routes);
    const server = await receiver.start(0);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => receiver.stop());

  const text = async (path: string, method = 'GET') => {
    const res = await fetch(`${base}${path}`, { method });
    return `${res.status} ${await res.text()}`;
  };

  it('answers an exact path with its handler and no path parameters, whatever the query', async () => {
    expect(await text('/api/authorize?wait=5', 'POST')).toBe('200 authorize {}');
    expect(await text('/healthz')).toBe('200 health {}');
  });

  it('leaves everything else to Bolt: a path with parameters, a later route, another method, an unknown path', async () => {
    expect(await text('/api/escalations/abc')).toBe('200 escalation {"id":"abc"}');
    expect(await text('/metrics')).toBe('200 metrics {}');
    expect((await text('/api/authorize', 'GET')).slice(0, 3)).toBe('404');
    expect((await text('/nowhere')).slice(0, 3)).toBe('404');
  });
});
