import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type CustomRoute } from '@slack/bolt';
import type { SlackMode } from '../config/env.js';
import type { Logger } from '../flow/ports.js';


export interface SlackAppOptions {
  mode: Exclude<SlackMode, { kind: 'none' }>;
  slackApiUrl: string;
  port: number;
  routes: CustomRoute[];
  log: Logger;
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
  // No conversation store: nothing reads it, and its per-request lookup (a thrown Error on every miss) is on the ack path.
  const app = new App({ token: opts.mode.botToken, receiver, clientOptions, logLevel: LogLevel.WARN, convoStore: false });
  app.error(async (err) => {
    opts.log.error({ err: err.message, code: (err as { code?: string }).code }, 'listener error');
  });
  return { app, receiver };
}
