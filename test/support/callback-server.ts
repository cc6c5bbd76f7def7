import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDocument } from 'yaml';

export interface ReceivedCallback {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown>;
}

/**
 * An agent's callback endpoint: records every POST; `failNext(n)` answers 500 n times.
 * `host`: another loopback address than the one test configs list (CALLBACK_SINK_HOST);
 * `redirectTo`: answers every POST with a 307 there instead.
 */
export async function startCallbackServer(opts: { host?: string; redirectTo?: string } = {}) {
  const host = opts.host ?? CALLBACK_SINK_HOST;
  const received: ReceivedCallback[] = [];
  const events = new EventEmitter();
  let failures = 0;
  let redirected = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (opts.redirectTo) {
        redirected++;
        res.writeHead(307, { location: opts.redirectTo }).end();
        return;
      }
      if (failures > 0) {
        failures--;
        res.writeHead(500).end('try later');
        events.emit('failed');
        return;
      }
      const cb = { headers: req.headers, body, json: JSON.parse(body) as Record<string, unknown> };
      received.push(cb);
      res.writeHead(204).end();
      events.emit('callback', cb);
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/callback`,
    port,
    received,
    /** POSTs answered with a redirect. */
    redirected: () => redirected,
    failNext(n: number) {
      failures = n;
    },
    /** Resolves when a callback for this escalation arrives (or has arrived). */
    waitFor(escalationId: string, timeoutMs = 15_000): Promise<ReceivedCallback> {
      const hit = received.find((c) => c.json.escalationId === escalationId);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no callback for ${escalationId} in ${timeoutMs} ms`)), timeoutMs);
        const on = (c: ReceivedCallback) => {
          if (c.json.escalationId !== escalationId) return;
          clearTimeout(timer);
          events.off('callback', on);
          resolve(c);
        };
        events.on('callback', on);
      });
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** Where the sink listens: what a test config lists in `callbacks.allowedHosts` to reach it. */
export const CALLBACK_SINK_HOST = '127.0.0.1';

/** The config text with the loopback sink (and `extra` hosts) added to `callbacks.allowedHosts` (callbacks go nowhere unlisted). */
export function listCallbackSink(configText: string, extra: string[] = []): string {
  const doc = parseDocument(configText);
  const listed = doc.getIn(['callbacks', 'allowedHosts']);
  const hosts = listed && typeof listed === 'object' && 'toJSON' in listed ? ((listed as { toJSON(): string[] }).toJSON()) : [];
  doc.setIn(['callbacks', 'allowedHosts'], [...new Set([...hosts, CALLBACK_SINK_HOST, ...extra])]);
  return doc.toString();
}
