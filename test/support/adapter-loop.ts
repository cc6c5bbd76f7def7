import type { AdapterOptions } from '../../src/adapters/tool-call.js';
import { APPROVER, GENERAL_CHANNEL, OWNER, SIGNING_SECRET, type Harness } from './harness.js';
import { eventually } from './services.js';
import { blockActionsBody, postSigned, viewSubmissionPayload } from './slack-signing.js';

/**
 * The example config's support agent, as a framework adapter maps its tools:
 * lookupCustomer is crm.read (autonomous), sendEmail is email.send
 * (autonomous inside acme.example, restricted to any other domain: a card on
 * the default route, #general), deleteCustomer is data.delete_customer
 * (denied: "the support agent never deletes data").
 */
export const supportAgent: AdapterOptions = {
  agent: { id: 'support-agent', name: 'Support Agent', owner: OWNER, model: 'scripted', modelVersion: 'test', promptVersion: 'test' },
  tools: {
    lookupCustomer: { type: 'crm.read', issueType: 'support', reversible: true },
    sendEmail: { type: 'email.send', issueType: 'support', summary: (a) => `Email ${String(a.to)}` },
    deleteCustomer: { type: 'data.delete_customer', issueType: 'support' },
  },
  waitMs: 20_000,
};

/** Cards Slack received for an escalation (chat.postMessage carrying its id in the metadata). */
export const cardsFor = (h: Harness, id: string) =>
  h.fake.callsTo('chat.postMessage').filter((c) => (c.args.metadata as { event_payload?: { escalation_id?: string } } | undefined)?.event_payload?.escalation_id === id);

/** A person approves the card: a signed button click. */
export async function approve(h: Harness, id: string): Promise<void> {
  const res = await h.click(APPROVER, 'countersign.approve', await h.card(id), GENERAL_CHANNEL);
  if (res.status !== 200) throw new Error(`approve click answered ${res.status}`);
}

/** A person denies the card with a reason: the deny click, then the signed submission of the modal Slack opened. */
export async function denyWithReason(h: Harness, id: string, reason: string): Promise<void> {
  await h.click(APPROVER, 'countersign.deny', await h.card(id), GENERAL_CHANNEL);
  const open = await h.fake.waitFor((c) => c.method === 'views.open' && JSON.stringify(c.args.view).includes(id));
  const view = open.args.view as { callback_id: string; private_metadata: string };
  const payload = viewSubmissionPayload({ userId: APPROVER, callbackId: view.callback_id, privateMetadata: view.private_metadata, values: { reason: { reason_input: reason } } });
  const res = await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, blockActionsBody(payload));
  if (res.status !== 200) throw new Error(`deny submission answered ${res.status}`);
}

/** The outcome report for an escalation, once the bot stored it (reports travel over a queue). */
export async function outcomeOf(h: Harness, id: string) {
  return eventually(async () => {
    const [row] = await h.sql`select success, output, error, action_type, execution_id from outcomes where escalation_id = ${id}`;
    return row;
  }, `outcome of ${id}`);
}
