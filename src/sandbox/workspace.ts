/**
 * The fake Slack workspace behind slack-api.ts: its channels and messages,
 * views, users, usergroups, presence and Do Not Disturb, and the Web API
 * methods the bot calls, each answering as Slack does (the same `ok`/`error`
 * bodies and limits). No HTTP here: slack-api.ts serves these methods.
 */
import type { BotTarget } from './interactions.js';
import { FAKE_IDS } from './ids.js';
import { SandboxWorld } from './world.js';

export type Args = Record<string, unknown>;
export interface MessageMetadata { event_type: string; event_payload: Record<string, unknown> }
export interface StoredMessage {
  type: 'message'; ts: string; user: string; bot_id: string; app_id: string; team: string; text: string;
  blocks?: unknown[]; attachments?: unknown[]; metadata?: MessageMetadata; thread_ts?: string; edited?: { user: string; ts: string };
}
export interface DndState { dnd_enabled: boolean; next_dnd_start_ts: number; next_dnd_end_ts: number; snooze_enabled: boolean }

export interface WorkspaceOptions {
  /** Fixed epoch seconds for deterministic ts; by default ts follow the (possibly faked) clock. */
  tsBase?: number;
  /** Set in the sandbox: permalinks point at its page instead of Slack's archive. */
  sandbox?: BotTarget;
  /** The fake's own base URL, known once it listens. */
  base: () => string;
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const bool = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;
const num = (v: unknown): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
export const ok = (extra: Args = {}): Args => ({ ok: true, ...extra });
export const fail = (error: string): Args => ({ ok: false, error });
export const clone = <T>(v: T): T => structuredClone(v);
/** Slack ts → integer microseconds; avoids float rounding when comparing `oldest`/`latest`. */
const tsKey = (ts: string): number => {
  const [sec = '0', frac = ''] = ts.split('.');
  return Number(sec) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6));
};

export type Workspace = ReturnType<typeof createWorkspace>;

export function createWorkspace(opts: WorkspaceOptions) {
  const channels = new Map<string, StoredMessage[]>();
  /** `channel:ts` → text before the first chat.update. */
  const firstTexts = new Map<string, string>();
  const views = new Map<string, Args>();
  const usergroups = new Map<string, string[]>();
  const users = new Map<string, Record<string, unknown>>();
  const presence = new Map<string, 'active' | 'away'>();
  const dnd = new Map<string, Partial<DndState>>();
  let lastMicros = 0;
  let viewSeq = 0;
  const world = new SandboxWorld();
  const newViewId = () => `V${String(++viewSeq).padStart(8, '0')}`;

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
    const view = makeView(newViewId(), a.view);
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
        ? `${opts.base()}/?conv=${encodeURIComponent(channel)}#m${msg.ts}`
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


  return {
    world, channels, firstTexts, views, usergroups, users, presence, dnd,
    handlers, nextTs, resolveChannel, makeView, newViewId, dndOf,
    /** Clears messages and views (and the page's world); keeps users, usergroups, presence and dnd settings. */
    reset: () => {
      channels.clear();
      firstTexts.clear();
      views.clear();
      world.reset();
    },
  };
}
