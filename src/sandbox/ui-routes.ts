/**
 * The sandbox's own routes, beside the Web API fake on the same server:
 * the page, its state, and the user's clicks, submissions and slash
 * commands, which become signed requests to the bot's /slack/events.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { blockIdOf, messageBodyHtml, viewToHtml } from './blocks.js';
import { json } from '../http/json.js';
import { escapeHtml } from './mrkdwn.js';
import { appHomeOpenedBody, blockActionsPayload, formPayload, hookToken, sendToBot, slashCommandBody, viewSubmissionPayload, type BotTarget } from './interactions.js';
import type { Ephemeral, SandboxWorld } from './world.js';

type Obj = Record<string, unknown>;
interface Msg { ts: string; text: string; blocks?: unknown[]; thread_ts?: string; edited?: unknown }

export interface UiBackend {
  world: SandboxWorld;
  channels: Map<string, Msg[]>;
  views: Map<string, Obj>;
  bot: BotTarget;
  base(): string;
  /** Stores a view as views.open/update would (merging into an existing id). */
  saveView(id: string, view: unknown): Obj | undefined;
  newViewId(): string;
  /** chat.postMessage as the bot. */
  post(channel: string, args: Obj): void;
  nextTs(): string;
  /** The person's Slack status as users.getPresence and dnd.info answer it. */
  availability(user: string): Availability;
  setAvailability(user: string, status: Availability): void;
}

type Availability = 'active' | 'away' | 'dnd';

/** People to act as in the page; any other id can be typed in. */
export const SANDBOX_USERS = [
  { id: 'U0APPROVER1', label: 'Approver (U0APPROVER1)' },
  { id: 'U0APPROVER2', label: 'Second approver (U0APPROVER2)' },
  { id: 'U0PAYOPS001', label: 'Payments on call (U0PAYOPS001)' },
  { id: 'U0PAYOPS002', label: 'Payments on call (U0PAYOPS002)' },
  { id: 'U0AGENTOWNR', label: 'Agent owner (U0AGENTOWNR)' },
  { id: 'U0STRANGER1', label: 'Stranger (U0STRANGER1)' },
];
const DEFAULT_CHANNELS = ['C0REFUNDS1', 'C0GENERAL1', 'C0PAYMENTS', 'C0GOVERN01'];

const PUBLIC = new URL('./public/', import.meta.url);
const STATIC: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/sandbox/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/sandbox/app.css': ['app.css', 'text/css; charset=utf-8'],
};

const dmOf = (user: string) => `D${user.replace(/^[UW]/, '')}`;
const tsKey = (ts: string) => Number(ts);
const USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/** What the sidebar lists for this person: the channels, and of the bot's DMs only their own, as in Slack. */
function conversations(b: UiBackend, user: string) {
  const ids = new Set([...DEFAULT_CHANNELS, ...b.channels.keys(), ...b.world.ephemerals.filter((e) => e.user === user).map((e) => e.channel)]);
  const channels = [...ids].filter((id) => !id.startsWith('D')).sort().map((id) => ({ id, kind: 'channel', label: `# ${id}`, count: (b.channels.get(id) ?? []).length }));
  const dm = { id: dmOf(user), kind: 'dm', label: 'Countersign ↔ you', count: (b.channels.get(dmOf(user)) ?? []).length };
  return [{ id: 'home', kind: 'home', label: 'Countersign · App Home', count: 0 }, ...channels, dm];
}

function timeOf(ts: string): string {
  return new Date(tsKey(ts) * 1000).toISOString().slice(11, 19);
}

function messageHtml(m: Msg, channel: string, ephemeral = false): string {
  const meta = `<div class="meta"><b>Countersign</b> <span class="tag">APP</span> <span class="time">${timeOf(m.ts)}</span>`
    + `${m.edited ? ' <span class="edited">(edited)</span>' : ''}${ephemeral ? ' <span class="eph">Only visible to you</span>' : ''}</div>`;
  return `<div class="msg${ephemeral ? ' ephemeral' : ''}" data-ts="${escapeHtml(m.ts)}">${meta}${messageBodyHtml(m, { kind: 'message', channel, ts: m.ts })}</div>`;
}

function paneHtml(b: UiBackend, conv: string, user: string): string {
  if (conv === 'home') {
    const home = b.views.get(`VHOME${user}`);
    return home ? viewToHtml(home) : '<p class="empty">The bot has not published an App Home for this user yet: the page sent it app_home_opened (see Requests to the bot).</p>';
  }
  const all = b.channels.get(conv) ?? [];
  const items: Array<{ ts: string; html: string }> = [];
  for (const m of all.filter((x) => !x.thread_ts || x.thread_ts === x.ts)) {
    const replies = all.filter((r) => r.thread_ts === m.ts && r.ts !== m.ts);
    const thread = replies.length ? `<div class="thread">${replies.map((r) => messageHtml(r, conv)).join('')}</div>` : '';
    items.push({ ts: m.ts, html: messageHtml(m, conv) + thread });
  }
  for (const e of b.world.ephemerals.filter((x: Ephemeral) => x.channel === conv && x.user === user)) {
    items.push({ ts: e.ts, html: messageHtml(e, conv, true) });
  }
  items.sort((x, y) => tsKey(x.ts) - tsKey(y.ts));
  return items.length ? items.map((i) => i.html).join('') : '<p class="empty">No messages yet.</p>';
}

function findElement(blocks: unknown[], blockId: string, actionId: string): Obj | undefined {
  const i = blocks.findIndex((bl, n) => blockIdOf(bl, n) === blockId);
  const block = (blocks[i] ?? {}) as { elements?: Obj[]; accessory?: Obj };
  return [...(block.elements ?? []), ...(block.accessory ? [block.accessory] : [])].find((e) => e.action_id === actionId);
}

async function click(b: UiBackend, body: Obj): Promise<[number, unknown]> {
  const user = String(body.user);
  const message = body.kind === 'message' ? b.channels.get(String(body.channel))?.find((m) => m.ts === body.ts) : undefined;
  const view = body.kind === 'view' ? b.views.get(String(body.viewId)) : undefined;
  const blocks = (message?.blocks ?? (view?.blocks as unknown[] | undefined)) ?? [];
  const element = findElement(blocks, String(body.blockId), String(body.actionId));
  if (!element) return [404, { error: 'no such button' }];
  const channel = String(body.channel ?? '');
  const payload = blockActionsPayload({
    user, triggerId: b.world.newTrigger(user), element, blockId: String(body.blockId), ...(typeof body.option === 'string' ? { option: body.option } : {}),
    responseUrl: message ? `${b.base()}/hooks/sandbox/${user}/${channel}/${hookToken()}` : undefined,
    message: message ? { channel, value: structuredClone(message) as unknown as Obj } : undefined,
    view: view ? structuredClone(view) : undefined,
  });
  const res = await sendToBot(b.bot, formPayload(payload));
  b.world.note(`${user} clicked ${String(element.action_id)}`, res.status);
  return [200, { status: res.status }];
}

async function submit(b: UiBackend, body: Obj): Promise<[number, unknown]> {
  const user = String(body.user);
  const viewId = String(body.viewId);
  const view = b.views.get(viewId);
  if (!view) return [404, { error: 'no such view' }];
  const values = (body.values ?? {}) as Record<string, Record<string, string>>;
  const res = await sendToBot(b.bot, formPayload(viewSubmissionPayload(user, b.world.newTrigger(user), structuredClone(view), values)));
  b.world.note(`${user} submitted ${String(view.callback_id || viewId)}`, res.status);
  if (res.status !== 200) return [200, { status: res.status }];
  let answer: Obj = {};
  try { answer = res.text.trim() ? (JSON.parse(res.text) as Obj) : {}; } catch { /* an empty ack */ }
  switch (answer.response_action) {
    case 'errors':
      b.world.viewErrors.set(viewId, answer.errors as Record<string, string>);
      b.world.bump();
      return [200, { status: res.status, errors: answer.errors }];
    case 'update':
      b.saveView(viewId, answer.view);
      break;
    case 'push': {
      const id = b.newViewId();
      if (b.saveView(id, answer.view)) b.world.pushView(user, id);
      break;
    }
    case 'clear':
      b.world.closeAll(user);
      break;
    default:
      b.world.closeTop(user);
  }
  b.world.viewErrors.delete(viewId);
  b.world.bump();
  return [200, { status: res.status }];
}

async function command(b: UiBackend, body: Obj): Promise<[number, unknown]> {
  const user = String(body.user);
  const m = /^(\/[a-z0-9_-]+)\s*([\s\S]*)$/i.exec(String(body.text ?? '').trim());
  if (!m) return [400, { error: 'a slash command starts with /, e.g. /countersign help' }];
  const channel = body.channel === 'home' || !body.channel ? dmOf(user) : String(body.channel);
  const res = await sendToBot(b.bot, slashCommandBody({
    user, channel, command: m[1]!, text: m[2]!, triggerId: b.world.newTrigger(user),
    responseUrl: `${b.base()}/hooks/sandbox/${user}/${channel}/${hookToken()}`,
  }));
  b.world.note(`${user} ran ${m[1]!}`, res.status);
  // The HTTP answer itself may carry the reply (ack with a message).
  try {
    const answer = JSON.parse(res.text) as Obj;
    if (typeof answer.text === 'string' || Array.isArray(answer.blocks)) responseUrlHook(b, `/hooks/sandbox/${user}/${channel}/ack`, answer);
  } catch { /* empty ack */ }
  return [200, { status: res.status }];
}

/** The person's presence and Do Not Disturb, as the bot's availability checks will see them. */
async function setStatus(b: UiBackend, body: Obj): Promise<[number, unknown]> {
  const status = String(body.status);
  if (status !== 'active' && status !== 'away' && status !== 'dnd') return [400, { error: 'status: active, away or dnd' }];
  b.setAvailability(String(body.user), status);
  b.world.note(`${String(body.user)} is now ${status === 'dnd' ? 'in Do Not Disturb' : status}`, 'ok');
  return [200, { status }];
}

/** Opening the App Home tab: Slack sends the bot `app_home_opened`. */
async function openHome(b: UiBackend, body: Obj): Promise<[number, unknown]> {
  const res = await sendToBot(b.bot, appHomeOpenedBody(String(body.user)), 'application/json');
  b.world.note(`${String(body.user)} opened the App Home`, res.status);
  return [200, { status: res.status }];
}

/** A POST to a response_url the sandbox handed out: an ephemeral answer, or a post in the channel. */
export function responseUrlHook(b: UiBackend, pathname: string, args: Obj): boolean {
  const m = /^\/hooks\/sandbox\/([^/]+)\/([^/]+)\/[^/]+$/.exec(pathname);
  if (!m) return false;
  const [, user, channel] = m as unknown as [string, string, string];
  if (args.response_type === 'in_channel') b.post(channel, args);
  else b.world.ephemerals.push({ channel, user, ts: b.nextTs(), text: String(args.text ?? ''), blocks: Array.isArray(args.blocks) ? args.blocks : undefined });
  b.world.bump();
  return true;
}

function state(b: UiBackend, q: URLSearchParams): unknown {
  const user = USER_ID.test(q.get('user') ?? '') ? q.get('user')! : SANDBOX_USERS[0]!.id;
  const since = Number(q.get('since') ?? -1);
  if (since === b.world.version) return { version: since, unchanged: true };
  const convs = conversations(b, user);
  const conv = convs.some((c) => c.id === q.get('conv')) ? q.get('conv')! : 'C0REFUNDS1';
  const top = b.world.topView(user);
  const view = top ? b.views.get(top) : undefined;
  return {
    version: b.world.version, user, users: SANDBOX_USERS, conversations: convs, conv, availability: b.availability(user),
    title: convs.find((c) => c.id === conv)?.label ?? conv,
    html: paneHtml(b, conv, user),
    modal: view ? { id: top, key: createHash('sha1').update(JSON.stringify(view)).digest('hex'), html: viewToHtml(view, b.world.viewErrors.get(String(top)), SANDBOX_USERS) } : null,
    activity: b.world.activity.slice(-6).reverse().map((a) => `${new Date(a.at).toISOString().slice(11, 19)} ${a.what} → ${a.status}`),
  };
}

/** Handles the page's routes; false for anything else. */
export function createUi(b: UiBackend) {
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: string): Promise<boolean> => {
    const asset = STATIC[url.pathname];
    if (req.method === 'GET' && asset) {
      res.writeHead(200, { 'content-type': asset[1], 'cache-control': 'no-store' }).end(readFileSync(new URL(asset[0], PUBLIC)));
      return true;
    }
    if (req.method === 'GET' && url.pathname === '/sandbox/state') return void json(res, 200, state(b, url.searchParams)), true;
    const post = { '/sandbox/click': click, '/sandbox/submit': submit, '/sandbox/command': command, '/sandbox/home': openHome, '/sandbox/status': setStatus }[url.pathname];
    if (req.method === 'POST' && (post || url.pathname === '/sandbox/close')) {
      let body: Obj;
      try { body = JSON.parse(raw) as Obj; } catch { return void json(res, 400, { error: 'invalid JSON' }), true; }
      if (!USER_ID.test(String(body.user))) return void json(res, 400, { error: 'user: a Slack user id like U0APPROVER1' }), true;
      if (!post) {
        // `all`: the page was loaded again, and a reload closes every modal, as in Slack.
        if (body.all === true) b.world.closeAll(String(body.user));
        else b.world.closeTop(String(body.user));
        b.world.bump();
        return void json(res, 200, { ok: true }), true;
      }
      try {
        const [status, out] = await post(b, body);
        json(res, status, out);
      } catch (err) {
        b.world.note(`request to the bot failed: ${(err as Error).message}`, 'error');
        json(res, 502, { error: (err as Error).message });
      }
      return true;
    }
    return false;
  };
}
