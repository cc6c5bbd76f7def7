import type { EscalationInput } from '../../src/domain/escalation.js';
import { exampleConfigText, makePurchase, SIGNING_SECRET, type Harness } from './harness.js';
import { blockActionsBody, blockActionsPayload, postSigned, slashCommandBody, viewSubmissionPayload } from './slack-signing.js';
import type { StoredMessage } from './fake-slack.js';

/** Procurement lives on the default route (its approvers: U0APPROVER1, U0APPROVER2). */
export const PROCUREMENT_CHANNEL = 'C0GENERAL1';
export const GRANTOR = 'U0APPROVER2';
/** `policy.admins` in the example config. */
export const ADMIN = 'U0APPROVER1';

/**
 * The example config with room to spend (procurement's daily cap and the
 * organisation's monthly one raised), the agents' owner among the default
 * route's approvers (who still may not approve), and agents for the limits:
 * two whose budgets are tight, one that forbids standing approvals, one whose
 * action allows them although irreversible and another that forbids them.
 */
export const standingConfig = exampleConfigText
  .replace('users: [U0APPROVER1, U0APPROVER2]', 'users: [U0APPROVER1, U0APPROVER2, U0AGENTOWNR]')
  .replace('monthlyUsd: 20000', 'monthlyUsd: 10000000')
  .replace('        dailyUsd: 500\n    - id: billing-agent', `        dailyUsd: 1000000
    - id: procurement-tight
      mode: exception_only
      actions:
        - { action: purchases.create, tier: restricted, spendParam: amountUsd }
      budgets: { dailyUsd: 700 }
    - id: procurement-tight-2
      mode: exception_only
      actions:
        - { action: purchases.create, tier: restricted, spendParam: amountUsd }
      budgets: { dailyUsd: 700 }
    - id: procurement-nostanding
      mode: exception_only
      standing: false
      actions:
        - { action: purchases.create, tier: restricted, spendParam: amountUsd }
    - id: procurement-irreversible
      mode: exception_only
      actions:
        - { action: purchases.create, tier: restricted, spendParam: amountUsd, standing: true }
        - { action: purchases.cancel, tier: restricted, standing: false }
    - id: billing-agent`);

/** A restricted purchase (over $250) by the procurement agent, in USD, reversible; a test's own `vendor` keeps other tests' grants from covering it. */
export function purchase(amountUsd: number, overrides: Partial<EscalationInput> & { agentId?: string; currency?: string; vendor?: string; actionType?: string; reversible?: boolean } = {}): EscalationInput {
  const { agentId, currency, vendor, actionType, reversible, ...rest } = overrides;
  const { callback: _none, ...base } = makePurchase(amountUsd, rest);
  return {
    ...base,
    agent: { ...base.agent, id: agentId ?? base.agent.id },
    action: { type: actionType ?? 'purchases.create', params: { amountUsd, vendor: vendor ?? 'acme', currency: currency ?? 'USD' }, reversible: reversible ?? true },
  };
}

/**
 * A signed POST, sent again once if the socket was reset before any answer: Node's fetch may reuse a
 * keep-alive socket the bot's server is just closing (idle past its keep-alive timeout) on a loaded machine.
 */
async function post(h: Pick<Harness, 'baseUrl'>, body: string): Promise<Response> {
  const send = () => postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, body);
  return send().catch((err: unknown) => {
    if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err;
    return send();
  });
}

export const buttonOf = (card: StoredMessage, actionId: string) =>
  ((card.blocks ?? []) as Array<{ elements?: Array<{ action_id: string; value: string }> }>).flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);

export interface GrantFields {
  hours?: string;
  count?: string;
  spendUsd?: string;
  /** Upper bounds by param (as typed). */
  max?: Record<string, string>;
  /** Params that must stay the same (the checked boxes); default every one offered. */
  keep?: string[];
}

/** Submits the grant modal for a card, as Slack would, whether or not the modal was ever opened (a forged one). */
export function submitGrant(h: Pick<Harness, 'baseUrl'>, user: string, card: StoredMessage, f: GrantFields = {}) {
  const value = buttonOf(card, 'countersign.approve')!.value;
  const [id, digest] = value.split(':');
  const values: Record<string, Record<string, string | Record<string, unknown>>> = {
    standing_hours: { value: { type: 'number_input', value: f.hours ?? '24' } },
    standing_count: { value: { type: 'number_input', value: f.count ?? '10' } },
    standing_spend: { value: { type: 'number_input', value: f.spendUsd ?? null } },
    standing_keep: { value: { type: 'checkboxes', selected_options: (f.keep ?? ['vendor', 'currency']).map((v) => ({ value: v, text: { type: 'plain_text', text: v } })) } },
  };
  for (const [k, v] of Object.entries(f.max ?? {})) values[`standing_max:${k}`] = { value: { type: 'number_input', value: v } };
  const payload = viewSubmissionPayload({
    userId: user,
    callbackId: 'countersign.standing_grant',
    privateMetadata: JSON.stringify({ id, digest, channel: PROCUREMENT_CHANNEL }),
    values,
  });
  return post(h, blockActionsBody(payload));
}

export function slash(h: Harness, user: string, text: string) {
  return post(h, slashCommandBody({ command: '/countersign', text, userId: user, channelId: PROCUREMENT_CHANNEL, responseUrl: h.fake.responseUrl }));
}

export function clickRevoke(h: Harness, user: string, standingId: string) {
  const payload = blockActionsPayload({ userId: user, channel: PROCUREMENT_CHANNEL, messageTs: '1.000001', actionId: 'countersign.standing_revoke', value: standingId, responseUrl: h.fake.responseUrl });
  return post(h, blockActionsBody(payload));
}
