/**
 * A local stand-in for the Slack Web API: the tests' fake and the sandbox
 * that `npm start` runs when no Slack credentials are set. It implements the
 * methods the bot calls, keeps messages per channel, and can inject 429s,
 * errors and held responses; the workspace and its methods are in
 * workspace.ts. With `sandbox` set it also serves a web page
 * (ui-routes.ts) where a person plays Slack: clicks and modal submissions
 * become signed requests to the bot, as Slack sends them.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FAKE_IDS } from './ids.js';
import type { BotTarget } from './interactions.js';
import { createUi, responseUrlHook } from './ui-routes.js';
import { clone, createWorkspace, fail, ok, str, type Args, type DndState, type StoredMessage } from './workspace.js';
import { createWaitFor } from './wait.js';

export { FAKE_IDS };
export type { Args, DndState, MessageMetadata, StoredMessage } from './workspace.js';
export interface FakeCall { method: string; args: Args; at: number; token: string | undefined }
/** `'hold'`: the effect stays, the reply never comes; `'fail500'`: the effect stays, the reply is a 500 (an outcome the client cannot know). */
export type CallHook = (call: FakeCall) => 'hold' | 'fail500' | void | Promise<void>;
/** `times`: how many calls the fault answers (default 1; `Infinity` until clearFaults). */
export interface FaultScope { channel?: string; times?: number }
/** `tsBase`: fixed epoch seconds for deterministic ts; by default ts follow the (possibly faked) clock. */
export interface FakeSlackOptions {
  tsBase?: number;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Serve the sandbox page at `/`, sending interactions to this bot. */
  sandbox?: BotTarget;
}

export interface FakeSlack {
  /** Pass as Bolt `clientOptions.slackApiUrl`. */
  readonly url: string;
  /** A response_url that the fake records as method 'response_url' (Bolt's respond() can't reach hooks.slack.com). */
  readonly responseUrl: string;
  /** The sandbox page (served only with `sandbox` set). */
  readonly pageUrl: string;
  readonly calls: readonly FakeCall[];
  callsTo(method: string): FakeCall[];
  /** Resolves with all calls to `method` once at least `count` (default 1) arrived. */
  waitFor(method: string, count?: number, timeoutMs?: number): Promise<FakeCall[]>;
  /** Resolves with the first call (past or future) matching the predicate. */
  waitFor(predicate: (call: FakeCall) => boolean, timeoutMs?: number): Promise<FakeCall>;
  messages(channel: string): StoredMessage[];
  /** A message's text as first posted, before any chat.update (tests of what a ping said once it is resolved). */
  postedText(channel: string, ts: string): string | undefined;
  message(channel: string, ts: string): StoredMessage | undefined;
  setUsergroup(id: string, userIds: string[]): void;
  setUser(id: string, patch: Record<string, unknown>): void;
  setPresence(userId: string, presence: 'active' | 'away'): void;
  setDnd(userId: string, state: Partial<DndState>): void;
  fail429(method: string, opts?: FaultScope & { retryAfterSec?: number }): void;
  failWith(method: string, opts: FaultScope & { error: string }): void;
  fail500(method: string, opts?: FaultScope): void;
  /** Ends the injected faults (of `method`, or all); returns that instant by the fake's clock, as calls' `at`. */
  clearFaults(method?: string): number;
  /** Runs after the call's effects are applied, before the reply. `'*'` matches every method. Returns an unsubscribe. */
  onCall(method: string, hook: CallHook): () => void;
  /** Clears calls, messages, views, hooks and faults; keeps users, usergroups, presence and dnd settings. */
  reset(): void;
  close(): Promise<void>;
}

interface Fault { method: string; channel?: string; remaining: number; status: number; headers: Record<string, string>; body: string }

const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata'];
function parseArgs(contentType: string | undefined, raw: string, query: URLSearchParams): Args {
  const args: Args = Object.fromEntries(query);
  if (contentType?.startsWith('application/json')) {
    if (raw.trim() !== '') Object.assign(args, JSON.parse(raw) as Args);
  } else {
    Object.assign(args, Object.fromEntries(new URLSearchParams(raw)));
  }
  for (const f of JSON_FIELDS) {
    const v = args[f];
    if (typeof v === 'string' && /^\s*[[{]/.test(v)) {
      try { args[f] = JSON.parse(v); } catch { /* leave as-is: Slack would reject it, and so will validation */ }
    }
  }
  return args;
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const calls: FakeCall[] = [];
  const events = new EventEmitter().setMaxListeners(0);
  let hooks: Array<{ method: string; fn: CallHook }> = [];
  let faults: Fault[] = [];
  const sockets = new Set<Socket>();
  let base = '';
  const ws = createWorkspace({ tsBase: opts.tsBase, sandbox: opts.sandbox, base: () => base });
  const { world, channels, firstTexts, views, usergroups, users, presence, dnd, handlers, nextTs, resolveChannel, makeView, newViewId, dndOf } = ws;

  const takeFault = (method: string, args: Args): Fault | undefined => {
    const f = faults.find((x) => x.method === method && (x.channel === undefined || x.channel === args.channel));
    if (f && --f.remaining <= 0) faults = faults.filter((x) => x !== f);
    return f;
  };
  const addFault = (method: string, scope: FaultScope | undefined, f: Pick<Fault, 'status' | 'headers' | 'body'>) =>
    faults.push({ method, channel: scope?.channel, remaining: scope?.times ?? 1, ...f });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> => {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://fake');
    const hookPath = url.pathname.startsWith('/hooks/');
    if (!hookPath && !url.pathname.startsWith('/api/')) {
      if (!(await ui?.(req, res, url, raw))) res.writeHead(404).end();
      return;
    }
    const method = hookPath ? 'response_url' : url.pathname.slice('/api/'.length);
    const args = parseArgs(req.headers['content-type'], raw, url.searchParams);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? str(args.token);
    let status = 200;
    let headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    let body: string;
    const fault = takeFault(method, args);
    if (fault) {
      ({ status, body } = fault);
      headers = { ...headers, ...fault.headers };
    } else if (hookPath) {
      if (ui) responseUrlHook(backend, url.pathname, args);
      body = JSON.stringify(ok());
    } else {
      const handler = handlers[method];
      body = JSON.stringify(!token ? fail('not_authed') : handler ? handler(args) : fail('unknown_method'));
    }
    const call: FakeCall = { method, args, at, token };
    calls.push(call);
    world.bump();
    events.emit('call', call);
    let hold = false;
    for (const h of hooks.filter((x) => x.method === method || x.method === '*')) {
      const r = h.fn(call);
      if (r === 'hold') hold = true;
      else if (r === 'fail500') {
        status = 500;
        body = JSON.stringify(fail('internal_error'));
      }
      else if (r) await r;
    }
    // A held request never gets an answer: the client sees the effect in Slack but not the reply, like a crash.
    // With its length the answer goes out in one write, not chunked in several.
    if (!hold) res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) }).end(body);
  };

  const backend = {
    world, channels, views, bot: opts.sandbox ?? { signingSecret: '', url: () => undefined }, base: () => base,
    saveView: (id: string, v: unknown) => makeView(id, v), newViewId,
    post: (channel: string, a: Args) => void handlers['chat.postMessage']!({ ...a, channel }), nextTs,
    availability: (user: string) => (dndOf(user).dnd_enabled ? 'dnd' : (presence.get(user) ?? 'active')) as 'active' | 'away' | 'dnd',
    setAvailability: (user: string, status: 'active' | 'away' | 'dnd') => {
      const sec = Math.floor(Date.now() / 1000);
      presence.set(user, status === 'away' ? 'away' : 'active');
      dnd.set(user, status === 'dnd' ? { dnd_enabled: true, next_dnd_start_ts: sec - 1, next_dnd_end_ts: sec + 86_400 } : { dnd_enabled: false });
    },
  };
  const ui = opts.sandbox ? createUi(backend) : undefined;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(`fake-slack: ${String(err)}`);
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const callsTo = (method: string) => calls.filter((c) => c.method === method);

  const waitFor = createWaitFor(calls, events);

  return {
    url: `${base}/api/`,
    responseUrl: `${base}/hooks/response`,
    pageUrl: `${base}/`,
    calls,
    callsTo,
    waitFor,
    messages: (channel) => clone(channels.get(resolveChannel(channel) ?? '') ?? []),
    postedText: (channel, ts) => {
      const c = resolveChannel(channel) ?? '';
      return firstTexts.get(`${c}:${ts}`) ?? channels.get(c)?.find((m) => m.ts === ts)?.text;
    },
    message: (channel, ts) => clone(channels.get(resolveChannel(channel) ?? '')?.find((m) => m.ts === ts)),
    setUsergroup: (id, userIds) => void usergroups.set(id, [...userIds]),
    setUser: (id, patch) => void users.set(id, { ...users.get(id), ...patch }),
    setPresence: (userId, p) => void presence.set(userId, p),
    setDnd: (userId, state) => void dnd.set(userId, { ...dnd.get(userId), ...state }),
    fail429: (method, o) => addFault(method, o, {
      status: 429, headers: { 'retry-after': String(o?.retryAfterSec ?? 1) }, body: JSON.stringify(fail('ratelimited')),
    }),
    failWith: (method, o) => addFault(method, o, { status: 200, headers: {}, body: JSON.stringify(fail(o.error)) }),
    fail500: (method, o) => addFault(method, o, {
      status: 500, headers: { 'content-type': 'text/plain' }, body: 'Internal Server Error',
    }),
    clearFaults: (method) => {
      faults = method === undefined ? [] : faults.filter((f) => f.method !== method);
      return Date.now();
    },
    onCall: (method, fn) => {
      const entry = { method, fn };
      hooks.push(entry);
      return () => void (hooks = hooks.filter((h) => h !== entry));
    },
    reset: () => {
      calls.length = 0;
      hooks = [];
      faults = [];
      ws.reset();
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
