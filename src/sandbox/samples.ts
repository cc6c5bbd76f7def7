/**
 * Sample agents for the sandbox: a realistic stream of escalations through
 * the TypeScript client, so every tier (autonomous, supervised, restricted,
 * denied), every trigger and every route shows up. Agents and actions match
 * examples/countersign.yml.
 */
import { randomUUID } from 'node:crypto';
import { CountersignClient } from '../client/index.js';
import type { EscalationInput } from '../domain/escalation.js';
import { usd } from '../domain/format.js';
import type { AuthorizeAnswer } from '../flow/answer.js';

const OWNER = 'U0AGENTOWNR';
const support = { id: 'support-agent', name: 'Support Agent', owner: OWNER, model: 'claude-sonnet-4', modelVersion: '2025-05-14', promptVersion: 'support-v12', toolVersions: { stripe: '2024-06-20', zendesk: '1.8.0', gmail: '2.1.0' } };
const procurement = { id: 'procurement-agent', name: 'Procurement Agent', owner: OWNER, model: 'claude-haiku-4', modelVersion: '2025-10-01', promptVersion: 'procure-v4', toolVersions: { coupa: '3.2.0' } };

const treasury = { id: 'treasury-agent', name: 'Treasury Agent', owner: OWNER, model: 'claude-sonnet-4', modelVersion: '2025-05-14', promptVersion: 'treasury-v1', toolVersions: { netsuite: '2025.1', bank: '4.0.2' } };
const billing = { id: 'billing-agent', name: 'Billing Agent', owner: OWNER, model: 'claude-sonnet-4', modelVersion: '2025-05-14', promptVersion: 'billing-v2', toolVersions: { stripe: '2024-06-20', netsuite: '2025.1' } };

type Agent = EscalationInput['agent'];
interface Case {
  agent: Agent;
  type: string;
  params: Record<string, unknown>;
  summary: string;
  issueType: string;
  reversible?: boolean;
  confidence?: number;
  urgency?: EscalationInput['urgency'];
  input: string;
  reasoning: string;
  handoff: [attempted: string, failed: string, gathered: string, recommendation: string];
  costUsd?: number;
  conflictingInformation?: boolean;
  step?: string;
  executionId?: string;
}

/** One escalation from a case: fresh id, a task (execution) of its own unless it shares one. */
export function escalationOf(c: Case): EscalationInput {
  return {
    version: 1,
    id: randomUUID(),
    agent: c.agent,
    executionId: c.executionId ?? `exec-${randomUUID().slice(0, 8)}`,
    action: { type: c.type, params: c.params, reversible: c.reversible ?? false, summary: c.summary },
    issueType: c.issueType,
    urgency: c.urgency ?? 'normal',
    trigger: { kind: 'user_request', source: c.agent.id === 'support-agent' ? `zendesk ticket ${88000 + Math.floor(Math.random() * 999)}` : 'slack #procurement', input: c.input },
    reasoning: c.reasoning,
    confidence: c.confidence ?? 0.93,
    handoff: { attempted: c.handoff[0], failed: c.handoff[1], gathered: c.handoff[2], recommendation: c.handoff[3] },
    cost: { tokens: Math.round((c.costUsd ?? 0.2) * 40_000), usd: c.costUsd ?? 0.2 },
    conflictingInformation: c.conflictingInformation ?? false,
    ...(c.step ? { step: c.step } : {}),
  };
}

const none = 'Nothing failed.';
const refund = (amountUsd: number, order: string, extra: Partial<Case> = {}): Case => ({
  agent: support, type: 'payments.refund', params: { orderId: order, amountUsd, currency: 'USD', customerEmail: 'customer@example.com' },
  summary: `Refund ${usd(amountUsd)} for order ${order}`, issueType: 'refund', input: 'Customer asks for a refund.',
  reasoning: 'Order found, refund within policy.', handoff: ['Looked up the order.', none, `Order ${order}, $${amountUsd}.`, 'Refund.'], ...extra,
});

/** A routine payout to a carrier, by ACH (recallable until it settles): the kind a standing approval suits. */
const freightPayout = (amountUsd: number): Case => ({
  agent: billing, type: 'payments.payout', params: { supplier: 'Contoso Freight', amountUsd, currency: 'USD', method: 'ach' }, reversible: true,
  summary: `Pay Contoso Freight ${usd(amountUsd)} for this week's deliveries`, issueType: 'payout',
  input: 'Weekly freight invoice from Contoso Freight.', reasoning: 'Matches the delivery log and the contracted rate; same carrier and size as every week.',
  handoff: ['Matched the invoice to 14 delivery notes.', 'Payouts need a person before they run.', 'Rate as contracted; ACH can be recalled until it settles.', 'Pay.'],
});

/** The stream, in order. Labels say what each case shows; `afterPrevious` waits until the case before is decided. */
export function sampleCases(): Array<{ label: string; case: Case; failuresFirst?: number; afterPrevious?: boolean }> {
  const flakyExecution = `exec-${randomUUID().slice(0, 8)}`;
  return [
    { label: 'support: $340 refund outside the 30-day window (low confidence → #C0REFUNDS1)', case: refund(340, '#4521', {
      confidence: 0.62, input: 'Customer: my blender stopped working after a week, I want my money back.',
      reasoning: 'Order was $340, delivered 45 days ago, outside the 30-day return window. The customer reports a defect within the warranty period; two similar defect reports exist for this SKU.',
      handoff: ['Looked up order #4521 and the return policy; checked the warranty terms.', 'Automatic refund refused: the order is outside the 30-day return window.', 'Order $340, delivered 45 days ago; defect claim with photo; 1-year warranty covers defects.', 'Approve the refund based on the defect claim.'],
      costUsd: 0.41 }) },
    { label: 'procurement: $180 of office chairs, within budget (autonomous)', case: { agent: procurement, type: 'purchases.create', params: { vendor: 'Steelcase', item: 'Task chair × 2', amountUsd: 180 }, summary: 'Buy 2 task chairs ($180)', issueType: 'procurement', input: 'Two new hires start Monday and need chairs.', reasoning: 'Vetted vendor, under the $250 autonomous limit.', handoff: ['Compared 3 vendors.', none, 'Steelcase is the contracted vendor.', 'Buy.'] } },
    { label: 'procurement: $1,450 laptop, over the $250 limit (restricted → #C0GENERAL1)', case: { agent: procurement, type: 'purchases.create', params: { vendor: 'Dell', item: 'Latitude 7450 laptop', amountUsd: 1450 }, summary: 'Buy a $1,450 laptop for a new hire', issueType: 'procurement', input: 'IT ticket: laptop for the new data engineer.', reasoning: 'Standard engineering spec from the contracted vendor; price matches the catalogue.', handoff: ['Checked the catalogue and stock.', 'Purchase over $250 needs approval.', 'Delivery in 3 days if ordered today.', 'Approve: the hire starts next week.'], urgency: 'high' } },
    { label: 'procurement: $640 standing desk, over the $250 limit (restricted → #C0GENERAL1; Edit and approve… lets the approver lower the amount, and the agent is told what changed)', case: { agent: procurement, type: 'purchases.create', params: { vendor: 'Fully', item: 'Jarvis standing desk', amountUsd: 640 }, summary: 'Buy a $640 standing desk', issueType: 'procurement', input: 'Ergonomics request from the design team.', reasoning: 'The premium frame was picked; the standard frame at $480 meets the ergonomics assessment too.', handoff: ['Compared two frames from the contracted vendor.', 'Purchase over $250 needs approval.', 'Standard frame $480, premium $640.', 'Approve, or edit the amount down to the standard frame.'] } },
    { label: 'email: reply to an external domain (restricted → #C0GENERAL1)', case: { agent: { ...support, name: 'Support Agent (email)' }, type: 'email.send', params: { to: 'procurement@globex.example', subject: 'Your invoice INV-2231', body: 'Attached is the corrected invoice.' }, summary: 'Email procurement@globex.example about invoice INV-2231', issueType: 'support', input: 'Globex asked for a corrected invoice.', reasoning: 'Invoice regenerated with the right PO number.', handoff: ['Regenerated the invoice.', none, 'PO 7781 was missing on the first one.', 'Send the corrected invoice.'] } },
    { label: 'email: note to an internal address (autonomous)', case: { agent: { ...support, name: 'Support Agent (email)' }, type: 'email.send', params: { to: 'billing@acme.example', subject: 'Invoice INV-2231 corrected' }, summary: 'Tell billing@acme.example the invoice was corrected', issueType: 'support', input: 'Keep billing in the loop.', reasoning: 'Internal notification.', handoff: ['Drafted a note.', none, 'Internal address.', 'Send.'] } },
    { label: 'support: ticket with low confidence (0.41 → #C0GENERAL1)', case: { agent: support, type: 'tickets.create', params: { queue: 'billing', title: 'Possible duplicate charge on card ending 4242' }, summary: 'Open a billing ticket for a possible duplicate charge', issueType: 'support', confidence: 0.41, input: 'Customer: I think I was charged twice?', reasoning: 'Two charges of the same amount 3 minutes apart; one may be a pre-authorisation.', handoff: ['Read both charges in Stripe.', 'Could not tell a pre-auth from a capture.', 'Charges ch_1 and ch_2, $89 each.', 'Open a ticket for billing to check.'] } },
    { label: 'support: CRM export after 3 failed attempts (repeated failure)', failuresFirst: 3, case: { agent: support, type: 'crm.read', params: { account: 'ACME-0042', fields: 'contacts,orders' }, summary: 'Read account ACME-0042 from the CRM (4th try)', issueType: 'support', step: 'crm.export', executionId: flakyExecution, input: 'Prepare the account summary.', reasoning: 'The CRM timed out three times in a row; trying again may hammer it.', handoff: ['Three reads of ACME-0042.', 'Each timed out after 30 s.', 'CRM status page shows degraded performance.', 'Let a human decide whether to retry now or later.'] } },
    { label: 'support: $45 refund (supervised: runs, then a review card)', case: refund(45, '#4610', { reasoning: 'Damaged in transit; photo attached; within the return window.' }) },
    { label: 'support: $2,400 refund, critical (restricted + high stakes → #C0REFUNDS1: refunds are routed by issue type before payments-urgent, so nobody is paged)', case: refund(2400, '#3988', { urgency: 'critical', reasoning: 'Enterprise order cancelled before shipping; the customer asks for a full refund.', handoff: ['Confirmed the order never shipped.', none, 'Cancellation within 24 h of purchase.', 'Refund in full.'] }) },
    { label: 'billing: $8,200 supplier payout, high urgency (restricted + high stakes → payments-urgent in #C0PAYMENTS: the card mentions the on-call payments person, who also gets a DM; if nobody decides, a DM and the secondary after 5 min, the route\'s approvers after 15, the primary again at 30, …, denied at 60)', case: {
      agent: billing, type: 'payments.payout', params: { supplier: 'Northwind Logistics', invoice: 'NW-20931', amountUsd: 8200, currency: 'USD' }, summary: 'Pay Northwind Logistics $8,200 for invoice NW-20931', issueType: 'payout', urgency: 'high',
      input: 'Northwind: invoice NW-20931 is 30 days overdue; shipments stop tomorrow unless paid.', reasoning: 'Invoice matches PO 5512 and the goods receipt; the supplier threatens to hold shipments, so it cannot wait for the Friday payment run.',
      handoff: ['Matched the invoice to PO 5512 and the goods receipt.', 'Payouts over $5,000 outside the payment run need a person.', 'Bank details unchanged since the last 6 payouts.', 'Pay today.'] } },
    { label: 'support: $120 refund with conflicting records (conflicting information)', case: refund(120, '#4702', { conflictingInformation: true, reasoning: 'The carrier says delivered; the customer says not received.', handoff: ['Checked the carrier and the order.', 'Records disagree.', 'Carrier: delivered 11:02; customer: nothing arrived.', 'Refund, or ask the carrier to investigate.'] }) },
    { label: 'support: access grant, outside its domain (restricted + out of domain)', case: { agent: support, type: 'access.grant', params: { user: 'jane.doe@example.com', role: 'billing-admin' }, summary: 'Grant billing-admin to jane.doe@example.com', issueType: 'support', input: 'Customer asks for admin access to the billing portal.', reasoning: 'The requester is listed as the account owner.', handoff: ['Checked the account owner.', none, 'Jane Doe is the owner of record.', 'Grant the role.'] } },
    { label: 'support: CRM read after a long task (task budget past $5)', case: { agent: support, type: 'crm.read', params: { account: 'ACME-0108' }, summary: 'Read account ACME-0108', issueType: 'support', costUsd: 6.3, input: 'Summarise the account history.', reasoning: 'Long research task; many tool calls so far.', handoff: ['Read 40 tickets.', none, 'Summary drafted.', 'One more read to finish.'] } },
    { label: 'treasury: $48,000 transfer to payroll (restricted, quorum: two approvers → #C0GENERAL1; approve as U0APPROVER1, then U0APPROVER2)', case: {
      agent: treasury, type: 'payments.transfer', params: { from: 'operating', to: 'payroll', amountUsd: 48000, currency: 'USD' }, summary: 'Move $48,000 from operating to payroll', issueType: 'treasury',
      input: 'Payroll run on Friday: the payroll account is $48,000 short.', reasoning: 'The payroll forecast for Friday exceeds the payroll balance by $47,310; operating has $1.2M, well above its floor.',
      handoff: ['Read both balances and the payroll forecast.', 'Transfers over $10,000 need two approvers.', 'Operating stays above its $500,000 floor after the transfer.', 'Transfer $48,000 today.'] } },
    { label: 'support: delete customer data (denied by policy)', case: { agent: support, type: 'data.delete_customer', params: { customer: 'cus_123' }, summary: 'Delete customer cus_123', issueType: 'support', input: 'GDPR request.', reasoning: 'The customer asked to be forgotten.', handoff: ['Verified identity.', none, 'Request is valid.', 'Delete.'] } },
    { label: 'procurement: $240 of monitors (allowed; crosses 80% of the $500 daily budget → alert in #C0GOVERN01)', case: { agent: procurement, type: 'purchases.create', params: { vendor: 'Dell', item: 'Monitor × 1', amountUsd: 240 }, summary: 'Buy a monitor ($240)', issueType: 'procurement', input: 'Replacement monitor.', reasoning: 'Contracted vendor.', handoff: ['Checked stock.', none, 'In stock.', 'Buy.'] } },
    { label: 'procurement: $150 of cables, over the daily budget (paused → Resume in #C0GOVERN01)', case: { agent: procurement, type: 'purchases.create', params: { vendor: 'Amazon Business', item: 'USB-C cables × 30', amountUsd: 150 }, summary: 'Buy 30 USB-C cables ($150)', issueType: 'procurement', input: 'Stock for the IT cupboard.', reasoning: 'Running low.', handoff: ['Counted stock.', none, '4 cables left.', 'Buy.'] } },
    // Last, since the next one waits for a person: a standing approval, granted on one card, covers the next request.
    { label: 'billing: $1,200 weekly freight payout (restricted → #C0GENERAL1; its card offers *Approve and allow similar…*: grant it, and the next payout to Contoso is approved at once in your name)', case: freightPayout(1200) },
    { label: 'billing: $1,150 freight payout to the same carrier, sent once you decided the one before (approved at once under your standing approval, or a card of its own)', case: freightPayout(1150), afterPrevious: true },
  ];
}

export interface SampleOptions {
  redisUrl: string;
  prefix?: string;
  /** Pause between cases (ms). */
  delayMs?: number;
  log(line: string): void;
  signal?: AbortSignal;
}

const describe = (a: AuthorizeAnswer): string =>
  `${a.decision}${a.tier ? ` · ${a.tier}` : ''}${a.triggers.length ? ` · triggers ${a.triggers.map((t) => t.kind).join(', ')}` : ''}${a.reason ? ` · ${a.reason}` : ''}`;

/** Until the escalation is decided, the run is stopped, or 10 minutes pass: checked once a second, on the client's own connection. */
async function decided(client: CountersignClient, id: string, signal?: AbortSignal): Promise<void> {
  for (let waited = 0; waited < 600 && !signal?.aborted; waited++) {
    if (await client.getDecision(id)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Streams the sample cases through the client; returns each case's answer. */
export async function runSampleAgents(o: SampleOptions): Promise<AuthorizeAnswer[]> {
  const client = new CountersignClient({ redisUrl: o.redisUrl, prefix: o.prefix });
  const answers: AuthorizeAnswer[] = [];
  try {
    let previous: string | undefined;
    for (const { label, case: c, failuresFirst, afterPrevious } of sampleCases()) {
      if (o.signal?.aborted) break;
      // Up to 10 minutes for a person to decide the case before (its card offers what this one shows).
      if (afterPrevious && previous) await decided(client, previous, o.signal);
      const e = escalationOf(c);
      previous = e.id;
      for (let i = 0; i < (failuresFirst ?? 0); i++) {
        await client.reportOutcome({ version: 1, id: randomUUID(), executionId: e.executionId, agentId: c.agent.id, actionType: c.type, step: c.step, success: false, error: 'ETIMEDOUT: CRM did not answer in 30 s', cost: { tokens: 900, usd: 0.01 } });
      }
      // Outcome reports are processed by a worker; give them a moment before the 4th attempt.
      if (failuresFirst) await new Promise((r) => setTimeout(r, 1500));
      const answer = await client.authorize(e, { timeoutMs: 15_000 });
      answers.push(answer);
      o.log(`${label}: ${describe(answer)}`);
      await new Promise((r) => setTimeout(r, o.delayMs ?? 1200));
    }
  } finally {
    await client.close();
  }
  return answers;
}
