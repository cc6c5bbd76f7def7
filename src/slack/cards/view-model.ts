import type { Escalation } from '../../domain/escalation.js';
import type { Status } from '../../domain/decision.js';
import { usd } from '../../domain/format.js';

export const ACTION_APPROVE = 'countersign.approve';
export const ACTION_DENY = 'countersign.deny';
/** Edit and approve…: a modal with the action's editable params (edit-modal.ts). */
export const ACTION_EDIT_APPROVE = 'countersign.edit_approve';
export const VIEW_EDIT_APPROVE = 'countersign.edit_approve_submit';
export const ACTION_DETAILS = 'countersign.details';
export const VIEW_DENY_REASON = 'countersign.deny_reason';
export const ACTION_REVIEW_OK = 'countersign.review_ok';
export const ACTION_REVIEW_WRONG = 'countersign.review_wrong';
export const VIEW_REVIEW_WRONG = 'countersign.review_wrong_note';
export const METADATA_EVENT_TYPE = 'countersign_escalation';

/** Everything a card shows; the same value renders the post and every update. */
export interface CardState {
  /** Already redacted: cards never show raw PII. */
  escalation: Escalation;
  digest: string;
  route: string;
  deadline: Date;
  status: Status;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
  failSafe: boolean;
  /** Why a human is needed, one line each ("restricted action", "confidence 0.62 < 0.70"). */
  whyHuman: string[];
  /** Supervised actions ran already; a human reviews them afterwards. */
  review?: {
    state: 'pending' | 'ok' | 'wrong';
    by: string | null;
    at: Date | null;
    note: string | null;
    /** Review due by (the SLA). */
    due: Date;
  };
  /** Who was paged when the card went out; shown while it waits for a decision. */
  oncall?: CardOncall;
  /** The action's own spend in USD (the policy's `spendParam`); unset when it has none. */
  amountUsd?: number;
  /** A high-stakes trigger fired: Approve asks for confirmation. */
  highStakes?: boolean;
  /** The action's policy marks params editable that this request carries: the card offers Edit and approve…. */
  editable?: boolean;
  /** Approved with edits: each changed param, requested → approved; `usd` when it is the action's spend. */
  edited?: Array<{ name: string; from: unknown; to: unknown; usd: boolean }>;
  /** The policy lets an approver approve this one and allow similar ones (src/flow/standing-grant.ts). */
  standingOffered?: boolean;
  /** Set when the escalation needs more than one approval (a quorum): who counted so far. */
  quorum?: CardQuorum;
  /** `decidedBy` decided as the out-of-office delegate of this approver. */
  onBehalfOf?: string | null;
  /** Snoozes and reassignment while it waits (src/slack/cards/handoff.ts). */
  handoff?: CardHandoff;
  /** What *Snooze* offers (`handoffs.snoozeMinutes`, default 30). */
  snoozeMinutes?: number;
}

/** A quorum's progress on the card: "1 of 2 approvals: @a". */
export interface CardQuorum {
  required: number;
  /** Counted approvers in order; with groups, the group each counts for. */
  counted: Array<{ user: string; group?: string }>;
  /** The user groups approvals must come from, one each (empty: any approver). */
  groups: string[];
  /** Groups still without an approval. */
  missingGroups: string[];
}

/** A pending card's hand-offs, from their events. */
export interface CardHandoff {
  /** The latest reassignment. `onBehalfOf`: `by` acted as this approver's delegate. */
  assignee?: { to: string; by: string; at: Date; onBehalfOf?: string };
  /** The latest snooze. */
  snooze?: { by: string; until: Date };
}

/** The on-call line of a card: the person paged, or the fallback to the route's group. */
export interface CardOncall {
  route: string;
  /** The person paged (mentioned); unset: nobody on call or available. */
  userId?: string;
  /** The route has schedules (or overrides): unset userId then means a gap or nobody available. */
  scheduled: boolean;
  /** Who was passed over, and why ("away", "in Do Not Disturb"). */
  skipped: Array<{ user: string; why: string }>;
  /** Asked instead when nobody is paged: the route's user group, else its approvers. */
  usergroup?: string;
  approvers: string[];
}

/** Button value: binds a click to the escalation and the exact request shown. */
export function buttonValue(id: string, digest: string): string {
  return `${id}:${digest}`;
}

export function parseButtonValue(value: string | undefined): { id: string; digest: string } | undefined {
  const m = /^([0-9a-f-]{36}):([0-9a-f]{64})$/i.exec(value ?? '');
  return m ? { id: m[1]!, digest: m[2]! } : undefined;
}

/** `<!date>` renders in each viewer's own time zone; the fallback is UTC. */
export function slackDate(d: Date, format = '{date_short_pretty} {time}'): string {
  const fallback = `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(d.getTime() / 1000)}^${format}|${fallback}>`;
}

/** Dollars as every card shows them (`domain/format.ts`). */
export const formatUsd = usd;
