import { ErrorCode as SlackErrorCode, WebClient, type WebAPIPlatformError, type WebAPIRateLimitedError } from '@slack/web-api';
import { RateLimitedError, SlackCallError } from '../errors.js';
import type { SlackMessage, SlackPort } from '../flow/ports.js';
import type { Availability } from '../domain/paging.js';
import { METADATA_EVENT_TYPE } from './cards/view-model.js';
import { DIGEST_METADATA_EVENT_TYPE } from './cards/channel-digest.js';
import { replyOf } from './cards/limits.js';
import { createHttpFetch } from './http-fetch.js';
import { createWebCall, type WebCall } from './web-call.js';

/** Usergroup membership is Tier 2 (about 20 calls a minute): cache it (ms). */
const USERGROUP_TTL_MS = 60_000;
/** At most this many history pages when looking for a possibly-posted card. */
const RECONCILE_PAGES = 5;

export interface WebClientOptions {
  token: string;
  slackApiUrl: string;
  /** Told of every Web API call the port makes, by method and result (for /metrics). */
  observe?: SlackCallObserver;
}

/** `rate_limited`: Slack answered 429; `error`: any other failure. */
export type SlackCallObserver = (method: string, result: 'ok' | 'error' | 'rate_limited') => void;

/** The observer given to createWebClient, per client. */
const observers = new WeakMap<WebClient, SlackCallObserver>();

/** Reports how `p` (a call of `method`, errors already mapped) settled, and passes it on unchanged. */
function observed<T>(observe: SlackCallObserver | undefined, method: string, p: Promise<T>): Promise<T> {
  if (!observe) return p;
  return p.then(
    (v) => (observe(method, 'ok'), v),
    (err: unknown) => {
      observe(method, err instanceof RateLimitedError ? 'rate_limited' : 'error');
      throw err;
    },
  );
}

/**
 * One Web API client for the bot. 429s are surfaced, not retried inside the
 * client (whose default pauses every call for that long): the caller delays
 * only that channel's job and other channels keep flowing.
 */
/** The lean JSON caller for the card path, made beside each client createWebClient returns. */
const webCalls = new WeakMap<WebClient, WebCall>();

export function createWebClient(opts: WebClientOptions): WebClient {
  const client = new WebClient(opts.token, {
    slackApiUrl: opts.slackApiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 10_000,
    maxRequestConcurrency: 200,
    // node:http keep-alive transport: a third of global fetch's CPU per call.
    fetch: createHttpFetch({ maxSockets: 200 }),
  });
  webCalls.set(client, createWebCall({ token: opts.token, slackApiUrl: opts.slackApiUrl, timeoutMs: 10_000, maxSockets: 200 }));
  if (opts.observe) observers.set(client, opts.observe);
  return client;
}

function mapError(method: string, err: unknown): Error {
  const code = (err as { code?: string }).code;
  if (code === SlackErrorCode.RateLimitedError) {
    return new RateLimitedError(method, Math.max(1, (err as WebAPIRateLimitedError).retryAfter) * 1000);
  }
  if (code === SlackErrorCode.PlatformError) {
    return new SlackCallError(method, (err as WebAPIPlatformError).data.error, true);
  }
  return new SlackCallError(method, (err as Error).message ?? String(err), false);
}

async function mappedCall<T>(method: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(method, err);
  }
}

/** A key-value cache with expiry: Redis in production (src/queue/slack-cache.ts), a Map otherwise. */
export interface TtlCache {
  getMany(keys: readonly string[]): Promise<Array<string | undefined>>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

export interface AvailabilityOptions {
  cache: TtlCache;
  /** Read on every miss, so a config reload applies at once. */
  ttl: () => { presenceMs: number; dndMs: number };
}

/** In-process fallback: fine for one replica, and for tools without Redis. */
export function memoryCache(now: () => number = Date.now): TtlCache {
  const m = new Map<string, { value: string; until: number }>();
  return {
    async getMany(keys) {
      return keys.map((key) => {
        const hit = m.get(key);
        return hit && hit.until > now() ? hit.value : undefined;
      });
    },
    async set(key, value, ttlMs) {
      if (m.size > 10_000) m.clear();
      m.set(key, { value, until: now() + ttlMs });
    },
  };
}

/** dnd.info's answer, kept whole: whether DND holds is decided at read time, so a cached answer stays right as windows open and close. */
interface DndInfo {
  dnd_enabled?: boolean;
  next_dnd_start_ts?: number;
  next_dnd_end_ts?: number;
  snooze_enabled?: boolean;
  snooze_endtime?: number;
}

function inDnd(d: DndInfo, nowMs: number): boolean {
  const sec = nowMs / 1000;
  const scheduled = d.dnd_enabled === true && (d.next_dnd_start_ts ?? Infinity) <= sec && sec < (d.next_dnd_end_ts ?? 0);
  const snoozed = d.snooze_enabled === true && (d.snooze_endtime ?? 0) > sec;
  return scheduled || snoozed;
}

const DEFAULT_AVAILABILITY_TTL = { presenceMs: 60_000, dndMs: 60_000 };

export function createSlackPort(client: WebClient, now: () => number = Date.now, availabilityOpts?: AvailabilityOptions): SlackPort {
  const groups = new Map<string, { at: number; users: readonly string[] }>();
  const avCache = availabilityOpts?.cache ?? memoryCache(now);
  const avTtl = availabilityOpts?.ttl ?? (() => DEFAULT_AVAILABILITY_TTL);
  const inflight = new Map<string, Promise<Availability & { error?: string; cached: boolean }>>();
  // Cards, their updates and the clicker's ephemeral reply: the lean caller when the client came from createWebClient (errors mapped alike).
  const lean = webCalls.get(client);
  const observe = observers.get(client);
  const call = <T>(method: string, fn: () => Promise<T>): Promise<T> => observed(observe, method, mappedCall(method, fn));
  const hot = <T>(method: string, args: Record<string, unknown>): Promise<T> =>
    (lean ? observed(observe, method, lean(method, args)) : call(method, () => client.apiCall(method, args))) as Promise<T>;
  /** The message in `channel` since `oldestSec` whose metadata names this id (a card's escalation, a digest), reading a few pages of history. */
  const findByMetadata = async (channel: string, oldestSec: number, eventType: string, key: string, id: string): Promise<string | undefined> => {
    let cursor: string | undefined;
    for (let page = 0; page < RECONCILE_PAGES; page++) {
      const res = await call('conversations.history', () =>
        client.conversations.history({ channel, oldest: String(oldestSec), include_all_metadata: true, limit: 200, cursor }),
      );
      for (const m of res.messages ?? []) {
        const meta = (m as { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }).metadata;
        if (meta?.event_type === eventType && meta.event_payload?.[key] === id && m.ts) return m.ts;
      }
      cursor = res.response_metadata?.next_cursor;
      if (!res.has_more || !cursor) break;
    }
    return undefined;
  };
  // A message found again later by its metadata (findByMetadata): a card, or a channel digest.
  const postTagged = async (channel: string, message: SlackMessage, eventType: string, payload: Record<string, string>) => {
    const res = await hot<{ ts?: string }>('chat.postMessage', {
      channel,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: false,
      unfurl_media: false,
      metadata: { event_type: eventType, event_payload: payload },
    });
    if (!res.ts) throw new SlackCallError('chat.postMessage', 'no ts in response', false);
    return { ts: res.ts };
  };
  return {
    async postCard(channel, message, escalationId) {
      return postTagged(channel, message, METADATA_EVENT_TYPE, { escalation_id: escalationId });
    },
    async findCard(channel, escalationId, oldestSec) {
      return findByMetadata(channel, oldestSec, METADATA_EVENT_TYPE, 'escalation_id', escalationId);
    },
    async postDigest(channel, message, digestId) {
      return postTagged(channel, message, DIGEST_METADATA_EVENT_TYPE, { digest_id: digestId });
    },
    async findDigest(channel, digestId, oldestSec) {
      return findByMetadata(channel, oldestSec, DIGEST_METADATA_EVENT_TYPE, 'digest_id', digestId);
    },
    async updateCard(channel, ts, message) {
      await hot('chat.update', { channel, ts, text: message.text, blocks: message.blocks });
    },
    async post(channel, message, threadTs) {
      const res = await hot<{ ts?: string; channel?: string }>('chat.postMessage', {
        channel,
        text: message.text,
        blocks: message.blocks,
        ...(threadTs === undefined ? {} : { thread_ts: threadTs }),
        unfurl_links: false,
        unfurl_media: false,
      });
      return { ts: res.ts ?? '', channel: res.channel };
    },
    async ephemeral(channel, user, text) {
      await hot('chat.postEphemeral', { channel, user, text: replyOf(text).text });
    },
    async permalink(channel, ts) {
      try {
        const res = await call('chat.getPermalink', () => client.chat.getPermalink({ channel, message_ts: ts }));
        return res.permalink;
      } catch {
        // A DM without its link still says where the card is.
        return undefined;
      }
    },
    async publishHome(userId, view) {
      await call('views.publish', () => client.views.publish({ user_id: userId, view }));
    },
    async openView(triggerId, view) {
      await call('views.open', () => client.views.open({ trigger_id: triggerId, view }));
    },
    async usergroupMembers(usergroupId) {
      const hit = groups.get(usergroupId);
      if (hit && now() - hit.at < USERGROUP_TTL_MS) return hit.users;
      const res = await call('usergroups.users.list', () => client.usergroups.users.list({ usergroup: usergroupId }));
      const users = res.users ?? [];
      groups.set(usergroupId, { at: now(), users });
      return users;
    },
    availability(userId) {
      // Concurrent misses for one person share one pair of Slack calls (a burst of cards must not spend the Tier 3 budget).
      const running = inflight.get(userId);
      if (running) return running;
      const p = lookupAvailability(userId).finally(() => inflight.delete(userId));
      inflight.set(userId, p);
      return p;
    },
  };

  async function lookupAvailability(userId: string): Promise<Availability & { error?: string; cached: boolean }> {
    const keys = [`presence:${userId}`, `dnd:${userId}`];
    const [p, d] = await avCache.getMany(keys).catch(() => [undefined, undefined]);
    const errors: string[] = [];
    const ttl = avTtl();
    // Both misses go out together; a failed one is not cached, so the next page asks again.
    const [presence, dnd] = await Promise.all([
      p !== undefined
        ? (p as Availability['presence'])
        : call('users.getPresence', () => client.users.getPresence({ user: userId })).then(
            async (res) => {
              const v: Availability['presence'] = res.presence === 'away' ? 'away' : res.presence === 'active' ? 'active' : 'unknown';
              await avCache.set(keys[0]!, v, ttl.presenceMs).catch(() => {});
              return v;
            },
            (err: Error) => (errors.push(err.message), 'unknown' as const),
          ),
      d !== undefined
        ? (JSON.parse(d) as DndInfo)
        : call('dnd.info', () => client.dnd.info({ user: userId })).then(
            async (res) => {
              const v: DndInfo = {
                dnd_enabled: res.dnd_enabled,
                next_dnd_start_ts: res.next_dnd_start_ts,
                next_dnd_end_ts: res.next_dnd_end_ts,
                // Sent for the caller's own snooze; absent for others (the Web API types omit it).
                snooze_enabled: (res as DndInfo).snooze_enabled,
                snooze_endtime: (res as DndInfo).snooze_endtime,
              };
              await avCache.set(keys[1]!, JSON.stringify(v), ttl.dndMs).catch(() => {});
              return v;
            },
            (err: Error) => (errors.push(err.message), {} as DndInfo),
          ),
    ]);
    return {
      presence,
      dnd: inDnd(dnd, now()),
      cached: p !== undefined && d !== undefined,
      ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    };
  }
}
