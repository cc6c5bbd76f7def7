import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type CustomRoute } from '@slack/bolt';
import type { SlackMode } from '../config/env.js';
import type { Logger } from '../flow/ports.js';
import { exactHandler, exactRoutes } from '../http/exact-routes.js';


export interface SlackAppOptions {
  mode: Exclude<SlackMode, { kind: 'none' }>;
  slackApiUrl: string;
  port: number;
  routes: CustomRoute[];
  log: Logger;
  /** The clock request timestamps are judged by (ms since the epoch). */
  now?: () => number;
}

/** Slack's replay window: a request stamped further than this from our clock, either way, is refused (s). */
export const MAX_REQUEST_SKEW_SEC = 5 * 60;

/**
 * The skew of a request's `X-Slack-Request-Timestamp` from `nowMs` when it is
 * beyond the window (s, positive when stamped ahead), else undefined. Bolt
 * refuses old stamps only; a stamp in the future would let a captured request
 * be replayed until then. A missing or malformed stamp is Bolt's to refuse.
 */
export function excessiveSkewSec(header: string | string[] | undefined, nowMs: number): number | undefined {
  const stamp = Number(Array.isArray(header) ? header[0] : header);
  if (!header || !Number.isFinite(stamp)) return undefined;
  const skew = stamp - Math.floor(nowMs / 1000);
  return Math.abs(skew) > MAX_REQUEST_SKEW_SEC ? skew : undefined;
}

/**
 * The Bolt app: HTTP mode (signed requests on /slack/events) or Socket Mode,
 * with /healthz and the agent API as custom routes either way.
 */
export function createSlackApp(opts: SlackAppOptions): { app: App; receiver: HTTPReceiver | SocketModeReceiver } {
  const clientOptions = { slackApiUrl: opts.slackApiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } };
  const receiver =
    opts.mode.kind === 'http'
      ? new HTTPReceiver({
          signingSecret: opts.mode.signingSecret,
          port: opts.port,
          customRoutes: opts.routes,
          logLevel: LogLevel.WARN,
          // Bad bodies and signatures: 4xx, and the process carries on.
          unhandledRequestTimeoutMillis: 3001,
        })
      : new SocketModeReceiver({ appToken: opts.mode.appToken, installerOptions: { port: opts.port }, customRoutes: opts.routes, logLevel: LogLevel.WARN });
  if (receiver instanceof HTTPReceiver) {
    routeExactPathsFirst(receiver, opts.routes);
    refuseSkewedRequests(receiver, opts.log, opts.now ?? Date.now);
  }
  // No conversation store: nothing reads it, and its per-request lookup (a thrown Error on every miss) is on the ack path.
  const app = new App({ token: opts.mode.botToken, receiver, clientOptions, logLevel: LogLevel.WARN, convoStore: false });
  app.error(async (err) => {
    opts.log.error({ err: err.message, code: (err as { code?: string }).code }, 'listener error');
  });
  return { app, receiver };
}

/** Before Bolt sees a request: a stamp out of the window either way answers 401, as a bad signature does. */
function refuseSkewedRequests(receiver: HTTPReceiver, log: Logger, now: () => number): void {
  const bolt = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    const skewSec = req.method === 'POST' ? excessiveSkewSec(req.headers['x-slack-request-timestamp'], now()) : undefined;
    if (skewSec === undefined) return bolt(req, res);
    log.warn({ path: req.url, skewSec }, 'Slack request refused: its timestamp is more than 5 minutes from our clock');
    // The body is left unread: the connection closes after the answer.
    res.writeHead(401, { connection: 'close' }).end();
  };
}

/**
 * Answers a custom route named by its exact path before Bolt's router sees
 * the request: Bolt builds each route's path-to-regexp matcher again on
 * every request (about 16 µs for /api/authorize, the hot path). Anything
 * else (Slack's endpoint, a path with parameters, one Bolt would normalise)
 * goes to Bolt unchanged.
 */
export function routeExactPathsFirst(receiver: HTTPReceiver, routes: readonly CustomRoute[]): void {
  const exact = exactRoutes(routes);
  const bolt = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    const handler = exactHandler(exact, req);
    if (!handler) return bolt(req, res);
    // As Bolt calls it: the request with (no) path parameters.
    void handler(Object.assign(req, { params: {} }), res);
  };
}
