/**
 * Requests from "Slack" to the bot, built and signed the way Slack builds
 * them: block_actions and view_submission as `payload=<JSON>` forms, slash
 * commands as plain forms, each with an HMAC v0 signature over
 * `v0:{timestamp}:{body}` using the bot's signing secret.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { FAKE_IDS } from './ids.js';

export interface BotTarget {
  signingSecret: string;
  /** The bot's `/slack/events` URL, once it listens. */
  url(): string | undefined;
}

type Obj = Record<string, unknown>;
const team = { id: FAKE_IDS.teamId, domain: FAKE_IDS.teamDomain };
const userOf = (id: string) => ({ id, username: id.toLowerCase(), name: id.toLowerCase(), team_id: FAKE_IDS.teamId });
const actionTs = () => `${(Date.now() / 1000).toFixed(6)}`;

export async function sendToBot(bot: BotTarget, body: string, contentType = 'application/x-www-form-urlencoded'): Promise<{ status: number; text: string }> {
  const url = bot.url();
  if (!url) return { status: 503, text: 'the bot is not listening yet' };
  const ts = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', bot.signingSecret).update(`v0:${ts}:${body}`).digest('hex')}`;
  // Slack gives the bot 3 s to acknowledge.
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature },
    body,
    signal: AbortSignal.timeout(3000),
  });
  return { status: res.status, text: await res.text() };
}

export const formPayload = (payload: Obj): string => `payload=${encodeURIComponent(JSON.stringify(payload))}`;

export interface ClickInput {
  user: string;
  triggerId: string;
  responseUrl?: string;
  element: Obj;
  blockId: string;
  /** The message the button is on, or the view. */
  message?: { channel: string; value: Obj };
  view?: Obj;
  /** An overflow menu's option picked: its value. */
  option?: string;
}

export function blockActionsPayload(i: ClickInput): Obj {
  const options = Array.isArray(i.element.options) ? (i.element.options as Obj[]) : [];
  const action: Obj =
    i.element.type === 'overflow'
      ? { type: 'overflow', block_id: i.blockId, action_id: i.element.action_id, selected_option: options.find((o) => o.value === i.option) ?? null, action_ts: actionTs() }
      : {
          type: 'button', block_id: i.blockId, action_id: i.element.action_id, text: i.element.text,
          ...(i.element.value !== undefined ? { value: i.element.value } : {}), ...(i.element.style ? { style: i.element.style } : {}),
          action_ts: actionTs(),
        };
  const common = {
    type: 'block_actions', user: userOf(i.user), api_app_id: FAKE_IDS.appId, token: 'sandbox_verification_token',
    trigger_id: i.triggerId, team, enterprise: null, is_enterprise_install: false, actions: [action],
  };
  if (i.message) {
    const ts = String(i.message.value.ts);
    return {
      ...common,
      container: { type: 'message', message_ts: ts, channel_id: i.message.channel, is_ephemeral: false },
      channel: { id: i.message.channel, name: i.message.channel.toLowerCase() },
      message: i.message.value,
      state: { values: {} },
      response_url: i.responseUrl,
    };
  }
  return { ...common, container: { type: 'view', view_id: i.view?.id }, view: i.view, state: { values: {} } };
}

/** `values`: block id → action id → typed text, as Slack puts it in `view.state.values`. */
export function viewSubmissionPayload(user: string, triggerId: string, view: Obj, values: Record<string, Record<string, string>>): Obj {
  // A user select's state is `selected_user` (null when nobody is picked); a text input's is `value`.
  const typeOf = (block: string) => ((view.blocks as Obj[] | undefined) ?? []).find((b) => b.block_id === block)?.element as Obj | undefined;
  const state = Object.fromEntries(
    Object.entries(values).map(([block, actions]) => [
      block,
      Object.fromEntries(
        Object.entries(actions).map(([action, value]) => [
          action,
          typeOf(block)?.type === 'users_select' ? { type: 'users_select', selected_user: value || null } : { type: 'plain_text_input', value },
        ]),
      ),
    ]),
  );
  return {
    type: 'view_submission', team, user: userOf(user), api_app_id: FAKE_IDS.appId, token: 'sandbox_verification_token',
    trigger_id: triggerId, view: { ...view, state: { values: state } }, response_urls: [], is_enterprise_install: false, enterprise: null,
  };
}

export function slashCommandBody(i: { user: string; channel: string; command: string; text: string; responseUrl: string; triggerId: string }): string {
  return new URLSearchParams({
    token: 'sandbox_verification_token',
    team_id: FAKE_IDS.teamId,
    team_domain: FAKE_IDS.teamDomain,
    channel_id: i.channel,
    channel_name: i.channel.toLowerCase(),
    user_id: i.user,
    user_name: i.user.toLowerCase(),
    command: i.command,
    text: i.text,
    api_app_id: FAKE_IDS.appId,
    is_enterprise_install: 'false',
    response_url: i.responseUrl,
    trigger_id: i.triggerId,
  }).toString();
}

/** `app_home_opened`, in the Events API's `event_callback` envelope (sent as JSON). */
export function appHomeOpenedBody(user: string): string {
  const now = Date.now() / 1000;
  return JSON.stringify({
    token: 'sandbox_verification_token', team_id: FAKE_IDS.teamId, api_app_id: FAKE_IDS.appId, type: 'event_callback',
    event: { type: 'app_home_opened', user, channel: `D${user.replace(/^[UW]/, '')}`, tab: 'home', event_ts: now.toFixed(6) },
    event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`, event_time: Math.floor(now),
    authorizations: [{ enterprise_id: null, team_id: FAKE_IDS.teamId, user_id: FAKE_IDS.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}

export const hookToken = (): string => randomBytes(12).toString('hex');
