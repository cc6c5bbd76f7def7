import dns, { type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { FetchFunction } from '@slack/web-api';

type FetchResponse = Awaited<ReturnType<FetchFunction>>;

/**
 * The Web API client's transport (and the agent callbacks'), on node:http(s)
 * with keep-alive agents. Node's global fetch (undici with WHATWG streams)
 * spends about three times the CPU per call, and at card volume the Slack
 * client is the bot's largest cost. Covers what those callers send: string
 * bodies, a timeout signal, `redirect: 'error'` or `'manual'`; anything else
 * goes to the global fetch.
 */
export function createHttpFetch(opts: { maxSockets?: number; maxBodyBytes?: number; guard?: AddressGuard; resolve?: Resolve } = {}): FetchFunction {
  const maxSockets = opts.maxSockets ?? 200;
  /** Beyond this the rest of the body is dropped (an agent's endpoint may answer with anything). */
  const maxBodyBytes = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  // Idle sockets close after 4 s, before a typical 5 s server keep-alive, so a request rarely meets a closing socket.
  const agentOptions = { keepAlive: true, maxSockets, timeout: 4_000, ...(opts.guard ? { lookup: guardedLookup(opts.guard, opts.resolve ?? dns.lookup) } : {}) };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  return (input, init = {}) => {
    const url = typeof input === 'string' ? new URL(input) : input;
    const redirect = init.redirect ?? 'follow';
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || typeof (init.body ?? '') !== 'string' || redirect === 'follow') {
      // The global fetch would connect without the guard.
      if (opts.guard) return Promise.reject(new TypeError('fetch failed: a guarded fetch sends string bodies over http(s) and follows no redirects'));
      return globalThis.fetch(url, init as RequestInit) as Promise<FetchResponse>;
    }
    const body = (init.body as string | undefined) ?? '';
    const signal = init.signal;
    return new Promise<FetchResponse>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(
        url,
        {
          method: init.method ?? 'GET',
          headers: { ...init.headers, 'content-length': String(Buffer.byteLength(body)) },
          agent: agents[url.protocol as 'http:' | 'https:'],
          signal,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (redirect === 'error' && status >= 300 && status < 400 && res.headers.location) {
            res.resume();
            return reject(new TypeError(`fetch failed: redirect to ${res.headers.location} refused`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          const done = () => resolve(responseOf(url.href, status, res.statusMessage ?? '', res.headers, Buffer.concat(chunks)));
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= maxBodyBytes) return void chunks.push(c);
            done();
            res.destroy();
          });
          res.on('error', reject);
          res.on('end', done);
          res.on('close', () => reject(new Error('fetch failed: response closed before its end')));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
}

/** Why the bot must not connect to an address that `hostname` resolved to (an Error to fail the request with), or undefined. */
export type AddressGuard = (address: string, hostname: string) => Error | undefined;
type Resolve = (hostname: string, options: dns.LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * The sockets' DNS lookup, judging every address a name resolves to before
 * connecting: the check applies to the address actually connected to, so a
 * name that resolves elsewhere by the time of the request (DNS rebinding)
 * gains nothing. IP literals are not looked up: callers judge them first.
 */
function guardedLookup(guard: AddressGuard, resolve: Resolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => guard(a.address, hostname)).find((e) => e !== undefined);
      if (refused) return callback(refused as NodeJS.ErrnoException, '', 0);
      if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

function responseOf(url: string, status: number, statusText: string, raw: http.IncomingHttpHeaders, buf: Buffer): FetchResponse {
  const value = (v: string | string[] | undefined) => (v === undefined ? null : Array.isArray(v) ? v.join(', ') : v);
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText,
    url,
    headers: {
      get: (name: string) => value(raw[name.toLowerCase()]),
      entries: () => Object.entries(raw).map(([k, v]) => [k, value(v) ?? ''] as [string, string]),
    },
    arrayBuffer: async () => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
    json: async () => JSON.parse(buf.toString('utf8')) as unknown,
    text: async () => buf.toString('utf8'),
  };
}
