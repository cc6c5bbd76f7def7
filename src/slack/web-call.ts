import http from 'node:http';
import https from 'node:https';
import { RateLimitedError, SlackCallError } from '../errors.js';

/** A Web API method called with a JSON body; resolves with Slack's `ok: true` answer. */
export type WebCall = (method: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>;

export interface WebCallOptions {
  token: string;
  /** As given to WebClient; a trailing slash is added if missing. */
  slackApiUrl: string;
  /** Whole call, socket wait included (ms). */
  timeoutMs: number;
  maxSockets: number;
}

/**
 * The card path's Slack calls (chat.postMessage, chat.update) without
 * WebClient: it serialises, redacts and stringifies every call's arguments,
 * headers and result for its debug log whatever the log level, and form-
 * encodes the blocks. This sends one JSON POST over a keep-alive socket
 * (Slack takes JSON bodies with a bearer token for these methods) and fails
 * exactly as web-port's mapping of WebClient's errors does:
 * - HTTP 429 with a numeric Retry-After: RateLimitedError (at least 1 s);
 *   without one, an indefinite SlackCallError (WebClient gives up too);
 * - any other status but 200: indefinite (Slack may have acted);
 * - `ok: false`, or a body that is not JSON: definite, with Slack's error;
 * - no answer (reset, timeout): indefinite.
 * No retries: the caller's job decides, as with `retries: 0` on the client.
 */
export function createWebCall(opts: WebCallOptions): WebCall {
  const base = new URL(opts.slackApiUrl.endsWith('/') ? opts.slackApiUrl : `${opts.slackApiUrl}/`);
  const lib = base.protocol === 'https:' ? https : http;
  // Idle sockets close after 4 s, before a typical 5 s server keep-alive (as src/slack/http-fetch.ts).
  const agent = new lib.Agent({ keepAlive: true, maxSockets: opts.maxSockets, timeout: 4_000 });
  const authorization = `Bearer ${opts.token}`;
  return (method, args) =>
    new Promise((resolve, reject) => {
      const url = new URL(method, base);
      const body = Buffer.from(JSON.stringify(args), 'utf8');
      const fail = (err: Error) => reject(new SlackCallError(method, `A request error occurred: ${err.message}`, false));
      let settled = false;
      const req = lib.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            authorization,
            accept: 'application/json',
            'content-type': 'application/json; charset=utf-8',
            'content-length': String(body.length),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => finish(() => fail(err)));
          res.on('aborted', () => finish(() => fail(new Error('response aborted'))));
          res.on('end', () => finish(() => answer(method, res, Buffer.concat(chunks).toString('utf8'), resolve, reject)));
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
      function finish(then: () => void) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        then();
      }
      req.on('error', (err) => finish(() => fail(err)));
      req.end(body);
    });
}

function answer(
  method: string,
  res: http.IncomingMessage,
  text: string,
  resolve: (v: Record<string, unknown>) => void,
  reject: (e: Error) => void,
): void {
  const status = res.statusCode ?? 0;
  if (status === 429) {
    const header = res.headers['retry-after'];
    const sec = typeof header === 'string' ? Number.parseInt(header, 10) : Number.NaN;
    if (!Number.isNaN(sec)) return reject(new RateLimitedError(method, Math.max(1, sec) * 1000));
    return reject(new SlackCallError(method, `Retry header did not contain a valid timeout (retry-after header: ${header ?? null})`, false, true));
  }
  if (status !== 200) return reject(new SlackCallError(method, `An HTTP protocol error occurred: statusCode = ${status}`, false, true));
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return reject(new SlackCallError(method, text, true));
  }
  if (data?.ok !== true) return reject(new SlackCallError(method, String(data?.error ?? 'no ok in response'), true));
  resolve(data);
}
