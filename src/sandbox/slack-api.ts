/**
 * A local stand-in for the Slack Web API: the tests' fake and the sandbox
 * that `npm start` runs when no Slack credentials are set. It implements the
 * methods the bot calls, keeps messages per channel, and can inject 429s,
 * errors and held responses. With `sandbox` set it also serves a web page
 * (ui-routes.ts) where a person plays Slack: clicks and modal submissions
 * become signed requests to the bot, as Slack sends them.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FAKE_IDS } from './ids.js';
import type { BotTarget } from './interactions.js';
import { createUi, responseUrlHook } from './ui-routes.js';
import { SandboxWorld } from './world.js';
import { createWaitFor } from './wait.js';

export { FAKE_IDS };



export type Args = Record<string, unknown>;
export interface FakeCall { method: string; args: Args; at: number; token: string | undefined }
export interface MessageMetadata { event_type: string; event_payload: Record<string, unknown> }
export interface StoredMessage {
  type: 'message'; ts: string; user: string; bot_id: string; app_id: string; team: string; text: string;
  blocks?: unknown[]; attachments?: unknown[]; metadata?: MessageMetadata; thread_ts?: string; edited?: { user: string; ts: string };
}
/** `'hold'`: the effect stays, the reply never comes; `'fail500'`: the effect stays, the reply is a 500 (an outcome the client cannot know). */
export type CallHook = (call: FakeCall) => 'hold' | 'fail500' | void | Promise<void>;
/** `times`: how many calls the fault answers (default 1; `Infinity` until clearFaults). */
export interface FaultScope { channel?: string; times?: number }
export interface DndState { dnd_enabled: boolean; next_dnd_start_ts: number; next_dnd_end_ts: number; snooze_enabled: boolean }
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
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const bool = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;
const num = (v: unknown): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
const ok = (extra: Args = {}): Args => ({ ok: true, ...extra });
const fail = (error: string): Args => ({ ok: false, error });
const clone = <T>(v: T): T => structuredClone(v);
/** Slack ts → integer microseconds; avoids float rounding when comparing `oldest`/`latest`. */
const tsKey = (ts: string): number => {
  const [sec = '0', frac = ''] = ts.split('.');
  return Number(sec) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6));
};

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
  const channels = new Map<string, StoredMessage[]>();
  /** `channel:ts` → text before the first chat.update. */
  const firstTexts = new Map<string, string>();
  const views = new Map<string, Args>();
  const usergroups = new Map<string, string[]>();
  const users = new Map<string, Record<string, unknown>>();
  const presence = new Map<string, 'active' | 'away'>();
  const dnd = new Map<string, Partial<DndState>>();
  let hooks: Array<{ method: string; fn: CallHook }> = [];
  let faults: Fault[] = [];
  const sockets = new Set<Socket>();
  let lastMicros = 0;
  let viewSeq = 0;
  const world = new SandboxWorld();

  // Real Slack ts track wall-clock time; tests that reconcile via `oldest` need that, hence the clock default.
  const nextTs = (): string => {
    const candidate = opts.tsBase !== undefined ? opts.tsBase * 1e6 + 100 : Date.now() * 1000;
    lastMicros = Math.max(candidate, lastMicros + 100);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  };
  const store = (channel: string): StoredMessage[] => {
    let list = channels.get(channel);
    if (!list) channels.set(channel, (list = []));
    return list;
  };
  // Slack opens the bot↔user DM when chat.postMessage targets a user id; deterministic ids keep tests readable.
  const dmFor = (ids: string[]): string =>
    ids.length === 1 ? `D${ids[0]!.replace(/^[UW]/, '')}` : `G${ids.slice().sort().join('').replace(/[UW]/g, '').slice(0, 10)}`;
  const resolveChannel = (c: string | undefined): string | undefined => (c && /^[UW]/.test(c) ? dmFor([c]) : c);

  const validateMessage = (a: Args): string | undefined => {
    if (a.blocks !== undefined && !Array.isArray(a.blocks)) return 'invalid_blocks_format';
    if (Array.isArray(a.blocks) && a.blocks.length > 50) return 'invalid_blocks';
    if (typeof a.text === 'string' && a.text.length > 40000) return 'msg_too_long';
    if (a.metadata !== undefined) {
      const m = a.metadata as Partial<MessageMetadata> | null;
      if (typeof m !== 'object' || m === null || typeof m.event_type !== 'string' || typeof m.event_payload !== 'object') {
        return 'invalid_metadata_format';
      }
    }
    return undefined;
  };
  const applyContent = (msg: StoredMessage, a: Args): void => {
    if (typeof a.text === 'string') msg.text = a.text;
    if (Array.isArray(a.blocks)) msg.blocks = a.blocks;
    if (Array.isArray(a.attachments)) msg.attachments = a.attachments;
    if (a.metadata !== undefined) msg.metadata = a.metadata as MessageMetadata;
  };
  const makeView = (id: string, input: unknown): Args | undefined => {
    if (typeof input !== 'object' || input === null) return undefined;
    const v = input as Args;
    if ((Array.isArray(v.blocks) && v.blocks.length > 100) || String(v.private_metadata ?? '').length > 3000) return undefined;
    const view: Args = {
      id, team_id: FAKE_IDS.teamId, private_metadata: '', callback_id: '', external_id: '', state: { values: {} },
      hash: `${Math.floor(Date.now() / 1000)}.${id}`, clear_on_close: false, notify_on_close: false,
      root_view_id: id, previous_view_id: null, app_id: FAKE_IDS.appId, bot_id: FAKE_IDS.botId, ...views.get(id), ...v,
    };
    views.set(id, view);
    return clone(view);
  };
  const openView = (a: Args): Args => {
    if (!str(a.trigger_id)) return fail('invalid_arguments');
    const view = makeView(`V${String(++viewSeq).padStart(8, '0')}`, a.view);
    if (view) world.viewOpened(String(a.trigger_id), String(view.id), a.push === true);
    return view ? ok({ view }) : fail('invalid_arguments');
  };
  const dndOf = (user: string): DndState => ({
    dnd_enabled: false, next_dnd_start_ts: 1, next_dnd_end_ts: 1, snooze_enabled: false, ...dnd.get(user),
  });

  const handlers: Record<string, (a: Args) => Args> = {
    'auth.test': () => ok({
      url: `https://${FAKE_IDS.teamDomain}.slack.com/`, team: 'Countersign Test', user: 'countersign',
      team_id: FAKE_IDS.teamId, user_id: FAKE_IDS.botUserId, bot_id: FAKE_IDS.botId, is_enterprise_install: false,
    }),
    'chat.postMessage': (a) => {
      const channel = resolveChannel(str(a.channel));
      if (!channel) return fail('channel_not_found');
      if (!str(a.text) && !(Array.isArray(a.blocks) && a.blocks.length) && !(Array.isArray(a.attachments) && a.attachments.length)) {
        return fail('no_text');
      }
      const invalid = validateMessage(a);
      if (invalid) return fail(invalid);
      const msg: StoredMessage = {
        type: 'message', ts: nextTs(), user: FAKE_IDS.botUserId, bot_id: FAKE_IDS.botId, app_id: FAKE_IDS.appId, team: FAKE_IDS.teamId, text: '',
      };
      applyContent(msg, a);
      if (str(a.thread_ts)) msg.thread_ts = str(a.thread_ts);
      store(channel).push(msg);
      return ok({ channel, ts: msg.ts, message: clone(msg) });
    },
    'chat.update': (a) => {
      const channel = resolveChannel(str(a.channel));
      const msg = channel && str(a.ts) ? channels.get(channel)?.find((m) => m.ts === a.ts) : undefined;
      if (!channel || !msg) return fail('message_not_found');
      const invalid = validateMessage(a);
      if (invalid) return fail(invalid);
      if (!firstTexts.has(`${channel}:${msg.ts}`)) firstTexts.set(`${channel}:${msg.ts}`, msg.text);
      applyContent(msg, a);
      msg.edited = { user: FAKE_IDS.botUserId, ts: nextTs() };
      return ok({ channel, ts: msg.ts, text: msg.text, message: clone(msg) });
    },
    'chat.delete': (a) => {
      const list = channels.get(resolveChannel(str(a.channel)) ?? '');
      const i = list?.findIndex((m) => m.ts === a.ts) ?? -1;
      if (!list || i < 0) return fail('message_not_found');
      list.splice(i, 1);
      return ok({ channel: a.channel, ts: a.ts });
    },
    'chat.getPermalink': (a) => {
      const channel = resolveChannel(str(a.channel));
      const msg = channel && str(a.message_ts) ? channels.get(channel)?.find((m) => m.ts === a.message_ts) : undefined;
      if (!channel || !msg) return fail('message_not_found');
      // The sandbox links to its own page, where the card can be clicked; otherwise Slack's archive form.
      const permalink = opts.sandbox
        ? `${base}/?conv=${encodeURIComponent(channel)}#m${msg.ts}`
        : `https://${FAKE_IDS.teamDomain}.slack.com/archives/${channel}/p${msg.ts.replace('.', '')}`;
      return ok({ channel, permalink });
    },
    'chat.postEphemeral': (a) => {
      if (!str(a.channel)) return fail('channel_not_found');
      if (!str(a.user)) return fail('user_not_in_channel');
      const ts = nextTs();
      world.ephemerals.push({ channel: resolveChannel(str(a.channel))!, user: String(a.user), ts, text: String(a.text ?? ''), blocks: Array.isArray(a.blocks) ? a.blocks : undefined });
      return ok({ message_ts: ts });
    },
    'views.open': openView,
    'views.push': (a) => openView({ ...a, push: true }),
    'views.update': (a) => {
      const id = str(a.view_id) ?? [...views.values()].find((v) => v.external_id === a.external_id && a.external_id)?.id;
      if (typeof id !== 'string') return fail('not_found');
      const view = makeView(id, a.view);
      return view ? ok({ view }) : fail('invalid_arguments');
    },
    'views.publish': (a) => {
      const user = str(a.user_id);
      if (!user) return fail('invalid_arguments');
      if ((a.view as Args | undefined)?.type !== 'home') return fail('invalid_arguments');
      const view = makeView(`VHOME${user}`, a.view);
      return view ? ok({ view }) : fail('invalid_arguments');
    },
    'conversations.history': (a) => {
      const channel = str(a.channel);
      if (!channel) return fail('channel_not_found');
      const inclusive = bool(a.inclusive);
      const oldest = tsKey(str(a.oldest) ?? '0');
      const latest = str(a.latest) ? tsKey(a.latest as string) : Infinity;
      const inRange = (k: number) => (inclusive ? k >= oldest && k <= latest : k > oldest && k < latest);
      const limit = Math.min(num(a.limit) || 100, 999);
      const offset = str(a.cursor) ? Number(Buffer.from(a.cursor as string, 'base64').toString().slice('offset:'.length)) : 0;
      const matching = (channels.get(channel) ?? [])
        .filter((m) => (!m.thread_ts || m.thread_ts === m.ts) && inRange(tsKey(m.ts)))
        .reverse();
      const page = matching.slice(offset, offset + limit).map((m) => {
        const { metadata, ...rest } = clone(m);
        return bool(a.include_all_metadata) && metadata ? { ...rest, metadata } : rest;
      });
      const hasMore = offset + limit < matching.length;
      const nextCursor = hasMore ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '';
      return ok({ messages: page, has_more: hasMore, pin_count: 0, response_metadata: { next_cursor: nextCursor } });
    },
    'conversations.open': (a) => {
      if (str(a.channel)) return ok({ channel: { id: a.channel } });
      const ids = String(a.users ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      if (ids.length === 0) return fail('users_list_not_supplied');
      return ok({ no_op: false, already_open: false, channel: { id: dmFor(ids) } });
    },
    'usergroups.users.list': (a) => {
      const members = usergroups.get(String(a.usergroup ?? ''));
      return members ? ok({ users: [...members] }) : fail('no_such_subteam');
    },
    'users.info': (a) => {
      const id = str(a.user);
      if (!id || !/^[UW]/.test(id)) return fail('user_not_found');
      const o = users.get(id) ?? {};
      const profile = { real_name: `User ${id}`, display_name: id.toLowerCase(), ...(o.profile as Args | undefined) };
      return ok({ user: {
        id, team_id: FAKE_IDS.teamId, name: id.toLowerCase(), real_name: profile.real_name, deleted: false, is_bot: false,
        is_admin: false, tz: 'Europe/London', tz_label: 'Greenwich Mean Time', tz_offset: 0, ...o, profile,
      } });
    },
    'users.getPresence': (a) => ok({ presence: presence.get(str(a.user) ?? FAKE_IDS.botUserId) ?? 'active' }),
    'dnd.info': (a) => ok({ ...dndOf(str(a.user) ?? FAKE_IDS.botUserId) }),
    'dnd.teamInfo': (a) => ok({ users: Object.fromEntries(String(a.users ?? '').split(',').filter(Boolean).map((u) => [u, dndOf(u)])) }),
  };

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

  let base = '';
  const backend = {
    world, channels, views, bot: opts.sandbox ?? { signingSecret: '', url: () => undefined }, base: () => base,
    saveView: (id: string, v: unknown) => makeView(id, v), newViewId: () => `V${String(++viewSeq).padStart(8, '0')}`,
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
      channels.clear();
      firstTexts.clear();
      views.clear();
      hooks = [];
      faults = [];
      world.reset();
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
