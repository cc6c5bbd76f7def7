import { OWNER, GENERAL_CHANNEL, exampleConfigText, makeEscalation, type Harness } from './harness.js';
import type { StoredMessage } from './fake-slack.js';

/**
 * The example config's treasury agent: transfers over $10,000 need two
 * approvers of the default route. Here that route has twenty more approvers
 * (for the races) and the agent's owner (so the owner rule, not the route,
 * refuses the owner).
 */
export const MANY = Array.from({ length: 20 }, (_, i) => `U0QUORUM${String(i).padStart(3, '0')}`);
export const quorumConfig = exampleConfigText.replace('users: [U0APPROVER1, U0APPROVER2]', `users: [U0APPROVER1, U0APPROVER2, ${OWNER}, ${MANY.join(', ')}]`);
/** The example's quorum rule, as written in examples/countersign.yml (tests edit it). */
export const QUORUM_RULE = 'approvals: 2\n              reason: transfers over $10,000 need two approvers';

/** A transfer by the treasury agent: over $10,000 it needs two approvers. */
export function makeTransfer(amountUsd: number, callbackUrl?: string) {
  const base = makeEscalation();
  return {
    ...base,
    agent: { ...base.agent, id: 'treasury-agent', name: 'Treasury Agent' },
    issueType: 'treasury',
    confidence: 0.95,
    cost: { tokens: 100, usd: 0.01 },
    action: { type: 'payments.transfer', params: { amountUsd, from: 'operating', to: 'payroll' }, reversible: false, summary: `Move $${amountUsd} to payroll` },
    ...(callbackUrl ? { callback: { url: callbackUrl } } : { callback: undefined }),
  };
}

export const approve = (h: Harness, user: string, card: StoredMessage) => h.click(user, 'countersign.approve', card, GENERAL_CHANNEL);
/** A card's (or a chat.update call's) blocks as text. */
export const blocksText = (m: { blocks?: unknown; args?: Record<string, unknown> }) => JSON.stringify(m.args?.blocks ?? m.blocks);

/** Approves as `user` and waits for the reply to that click (not an earlier one) matching `pattern`. */
export async function approveHearing(h: Harness, user: string, card: StoredMessage, pattern: RegExp): Promise<string> {
  const since = h.fake.calls.length;
  await approve(h, user, card);
  const reply = await h.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === user && pattern.test(String(c.args.text)) && h.fake.calls.indexOf(c) >= since);
  return String(reply.args.text);
}

export async function quorumRow(h: Harness, id: string) {
  const rows = await h.sql<Array<{ status: string; decided_by: string | null; approvals: Array<{ user: string }>; approvals_required: number }>>`
    select status, decided_by, approvals, approvals_required from escalations where id = ${id}`;
  return rows[0]!;
}
