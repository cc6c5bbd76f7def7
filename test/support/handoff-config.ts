import { parse, stringify } from 'yaml';
import type { StoredMessage } from './fake-slack.js';
import { APPROVER, APPROVER_2, OWNER, REFUNDS_CHANNEL, SIGNING_SECRET, exampleConfigText, type Harness } from './harness.js';
import { blockActionsBody, blockActionsPayload, postSigned, slashCommandBody, viewSubmissionPayload } from './slack-signing.js';

export const ONCALL = 'U0ONCALLR1';

/**
 * The example config, with the refunds route's approvers widened to
 * APPROVER, APPROVER_2, the on-call person and the agent's owner (so that
 * the owner rule, not the approver list, is what refuses the owner), and an
 * on-call schedule with one person, so who is paged is the same on any date.
 */
export function handoffConfig(): string {
  const config = parse(exampleConfigText) as { slack: Record<string, unknown>; schedules?: Record<string, unknown>; routes: Array<Record<string, unknown>> };
  config.slack = { ...config.slack, postsPerSecondPerChannel: 1000, postBurst: 1000 };
  config.schedules = {
    ...config.schedules,
    'refunds-oncall': { layers: [{ name: 'main', rotation: { users: [ONCALL], kind: 'custom', intervalHours: 8760, handoff: '00:00', timezone: 'UTC', start: '2026-01-01' } }] },
  };
  const refunds = config.routes.find((r) => r.name === 'refunds')!;
  Object.assign(refunds, { approvers: { users: [APPROVER, APPROVER_2, ONCALL, OWNER] }, schedules: ['refunds-oncall'] });
  return stringify(config);
}

/** The card's hand-off overflow menu, picked as Slack sends it: a block_actions with the option chosen. */
export function pickHandoff(h: Harness, user: string, card: StoredMessage, choice: 'snooze' | 'reassign'): Promise<Response> {
  const blocks = (card.blocks ?? []) as Array<{ elements?: Array<{ type: string; action_id: string; options?: Array<{ text: { text: string }; value: string }> }> }>;
  const menu = blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === 'countersign.handoff');
  if (!menu) throw new Error('no hand-off menu on the card');
  const option = menu.options!.find((o) => o.value.startsWith(`${choice}:`))!;
  const payload = blockActionsPayload({ userId: user, channel: REFUNDS_CHANNEL, messageTs: card.ts, actionId: 'countersign.handoff', value: '' });
  const action = (payload.actions as Array<Record<string, unknown>>)[0]!;
  payload.actions = [{ type: 'overflow', block_id: action.block_id, action_id: 'countersign.handoff', selected_option: option, action_ts: action.action_ts }];
  return postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
}

/** Reassign…'s modal submitted with `to` picked in its user select (or nothing picked). */
export function submitReassign(h: Harness, user: string, escalationId: string, digest: string, to: string | null, note?: string): Promise<Response> {
  const payload = viewSubmissionPayload({
    userId: user,
    callbackId: 'countersign.reassign',
    privateMetadata: JSON.stringify({ id: escalationId, digest, channel: REFUNDS_CHANNEL }),
    values: {
      assignee: { assignee_input: { type: 'users_select', selected_user: to } },
      note: { note_input: { type: 'plain_text_input', value: note ?? null } },
    },
  });
  return postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
}

/** `/countersign <text>` typed by `userId`; resolves with the ephemeral answer. */
export async function countersign(h: Harness, text: string, userId: string): Promise<string> {
  const marker = h.fake.callsTo('response_url').length;
  const res = await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, slashCommandBody({ command: '/countersign', text, userId, channelId: REFUNDS_CHANNEL, responseUrl: h.fake.responseUrl }));
  if (res.status !== 200) throw new Error(`slash command answered ${res.status}`);
  await h.fake.waitFor('response_url', marker + 1);
  return String(h.fake.callsTo('response_url')[marker]!.args.text);
}

/** The digest a card's buttons are bound to. */
export function digestOf(card: StoredMessage): string {
  const blocks = (card.blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value?: string }> }>;
  return blocks.flatMap((b) => b.elements ?? []).find((el) => el.action_id === 'countersign.approve')!.value!.split(':')[1]!;
}
