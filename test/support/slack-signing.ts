import { createHmac, randomBytes } from 'node:crypto';
import { FAKE_IDS } from './fake-slack.js';

// Helpers that drive a Bolt HTTPReceiver the way Slack does. Field shapes follow Slack's payloads
// (cross-checked with bolt-python's scenario tests) so handlers see what production would send.

export type SlackContentType = 'application/x-www-form-urlencoded' | 'application/json';
export interface SlackSignatureHeaders {
  'x-slack-request-timestamp': string;
  'x-slack-signature': string;
}

export function signSlackRequest(secret: string, body: string, timestampSec = Math.floor(Date.now() / 1000)): SlackSignatureHeaders {
  const hex = createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestampSec), 'x-slack-signature': `v0=${hex}` };
}

/** Form body for any interactive payload (block_actions, view_submission, shortcuts): `payload=<url-encoded JSON>`. */
export function blockActionsBody(payload: object): string {
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}
export const interactionBody = blockActionsBody;

const digits = (n: number): string => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');
const nowTs = (): string => `${Math.floor(Date.now() / 1000)}.${digits(6)}`;
export const fakeTriggerId = (): string => `${digits(13)}.${digits(10)}.${randomBytes(16).toString('hex')}`;

export interface PayloadCommon {
  teamId?: string;
  teamDomain?: string;
  userName?: string;
  triggerId?: string;
  responseUrl?: string;
}
const team = (o: PayloadCommon) => ({ id: o.teamId ?? FAKE_IDS.teamId, domain: o.teamDomain ?? FAKE_IDS.teamDomain });
const user = (id: string, o: PayloadCommon) => {
  const name = o.userName ?? id.toLowerCase();
  return { id, username: name, name, team_id: o.teamId ?? FAKE_IDS.teamId };
};
const defaultResponseUrl = (o: PayloadCommon) =>
  o.responseUrl ?? `https://hooks.slack.com/actions/${o.teamId ?? FAKE_IDS.teamId}/${digits(12)}/${randomBytes(12).toString('hex')}`;

export interface BlockActionsInput extends PayloadCommon {
  userId: string;
  channel: string;
  messageTs: string;
  actionId: string;
  value: string;
  blockId?: string;
  channelName?: string;
  buttonText?: string;
  /** Merged into the `message` object, e.g. the card's `blocks`/`text` as the bot posted them. */
  message?: Record<string, unknown>;
  stateValues?: Record<string, Record<string, unknown>>;
}

export function blockActionsPayload(i: BlockActionsInput): Record<string, unknown> {
  return {
    type: 'block_actions',
    user: user(i.userId, i),
    api_app_id: FAKE_IDS.appId,
    token: 'verification_token_unused',
    container: { type: 'message', message_ts: i.messageTs, channel_id: i.channel, is_ephemeral: false },
    trigger_id: i.triggerId ?? fakeTriggerId(),
    team: team(i),
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: i.channel, name: i.channelName ?? 'approvals' },
    message: {
      type: 'message', user: FAKE_IDS.botUserId, bot_id: FAKE_IDS.botId, app_id: FAKE_IDS.appId, team: i.teamId ?? FAKE_IDS.teamId,
      ts: i.messageTs, text: '', blocks: [], ...i.message,
    },
    state: { values: i.stateValues ?? {} },
    response_url: defaultResponseUrl(i),
    actions: [{
      type: 'button',
      block_id: i.blockId ?? 'actions',
      action_id: i.actionId,
      text: { type: 'plain_text', text: i.buttonText ?? i.actionId, emoji: true },
      value: i.value,
      action_ts: nowTs(),
    }],
  };
}

/** A click in App Home: a block_actions from the user's Home view, with no channel or message. */
export function homeActionsPayload(i: { userId: string; actionId: string; value: string }): Record<string, unknown> {
  const { channel: _c, message: _m, ...rest } = blockActionsPayload({ ...i, channel: 'unused', messageTs: 'unused' });
  return { ...rest, container: { type: 'view', view_id: `VHOME${i.userId}` }, view: { id: `VHOME${i.userId}`, type: 'home', blocks: [] } };
}

/** Leaf values may be a plain string (taken as a plain_text_input) or a full Slack state value object. */
export type ViewValuesInput = Record<string, Record<string, string | Record<string, unknown>>>;

export interface ViewSubmissionInput extends PayloadCommon {
  userId: string;
  callbackId: string;
  privateMetadata: string;
  values: ViewValuesInput;
  viewId?: string;
  blocks?: unknown[];
}

export function viewSubmissionPayload(i: ViewSubmissionInput): Record<string, unknown> {
  const values = Object.fromEntries(Object.entries(i.values).map(([blockId, actions]) => [
    blockId,
    Object.fromEntries(Object.entries(actions).map(([actionId, v]) => [
      actionId, typeof v === 'string' ? { type: 'plain_text_input', value: v } : v,
    ])),
  ]));
  const viewId = i.viewId ?? `V${digits(10)}`;
  return {
    type: 'view_submission',
    team: team(i),
    user: user(i.userId, i),
    api_app_id: FAKE_IDS.appId,
    token: 'verification_token_unused',
    trigger_id: i.triggerId ?? fakeTriggerId(),
    view: {
      id: viewId, team_id: i.teamId ?? FAKE_IDS.teamId, type: 'modal', blocks: i.blocks ?? [],
      private_metadata: i.privateMetadata, callback_id: i.callbackId, state: { values },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      title: { type: 'plain_text', text: 'Countersign', emoji: true },
      submit: { type: 'plain_text', text: 'Submit', emoji: true }, close: null,
      clear_on_close: false, notify_on_close: false, previous_view_id: null, root_view_id: viewId,
      app_id: FAKE_IDS.appId, external_id: '', app_installed_team_id: i.teamId ?? FAKE_IDS.teamId, bot_id: FAKE_IDS.botId,
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

export interface SlashCommandInput extends PayloadCommon {
  command: string;
  text?: string;
  userId: string;
  channelId: string;
  channelName?: string;
}

/** Form body in Slack's own field order (see the signing test vector in slack-notes). */
export function slashCommandBody(i: SlashCommandInput): string {
  return new URLSearchParams({
    token: 'verification_token_unused',
    team_id: i.teamId ?? FAKE_IDS.teamId,
    team_domain: i.teamDomain ?? FAKE_IDS.teamDomain,
    channel_id: i.channelId,
    channel_name: i.channelName ?? 'approvals',
    user_id: i.userId,
    user_name: i.userName ?? i.userId.toLowerCase(),
    command: i.command,
    text: i.text ?? '',
    api_app_id: FAKE_IDS.appId,
    is_enterprise_install: 'false',
    response_url: i.responseUrl ?? `https://hooks.slack.com/commands/${i.teamId ?? FAKE_IDS.teamId}/${digits(12)}/${randomBytes(12).toString('hex')}`,
    trigger_id: i.triggerId ?? fakeTriggerId(),
  }).toString();
}

/** `event_callback` envelope, sent as application/json (e.g. app_home_opened, app_mention). */
export function eventCallbackBody(event: Record<string, unknown>, o: { teamId?: string } = {}): string {
  return JSON.stringify({
    token: 'verification_token_unused',
    team_id: o.teamId ?? FAKE_IDS.teamId,
    api_app_id: FAKE_IDS.appId,
    event: { event_ts: nowTs(), ...event },
    type: 'event_callback',
    event_id: `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: o.teamId ?? FAKE_IDS.teamId, user_id: FAKE_IDS.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
}

/**
 * POST a signed request the way Slack does. Bolt compares content-type exactly, so no charset suffix.
 * `headers` can add e.g. x-slack-retry-num to simulate Slack's redelivery.
 */
export async function postSigned(
  url: string,
  secret: string,
  body: string,
  contentType: SlackContentType = 'application/x-www-form-urlencoded',
  opts: { timestampSec?: number; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...signSlackRequest(secret, body, opts.timestampSec), ...opts.headers },
    body,
  });
}
