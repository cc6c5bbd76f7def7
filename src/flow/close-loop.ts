import { routeByName } from '../domain/routing.js';
import { pingsSent, type SentPing } from '../db/queries/chain.js';
import { recordEvent } from '../db/queries/events.js';
import { getEscalation } from '../db/queries/escalations.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { RateLimitedError, SlackCallError } from '../errors.js';
import { chainThreadMessage } from '../slack/cards/chain-message.js';
import { oncallDmFor } from './card-oncall.js';
import type { FlowPorts, SlackMessage } from './ports.js';

type Ports = Pick<FlowPorts, 'db' | 'slack' | 'pacer' | 'config' | 'log' | 'now' | 'scheduler'>;

/** At most this many App Homes are refreshed for one outcome (views.publish is Tier 4, about 100 a minute). */
const HOMES_MAX = 50;

export type CloseLoopResult = { kind: 'done'; updated: number; homes: number } | { kind: 'skipped' } | { kind: 'wait'; ms: number };

/** The message a ping becomes once the escalation is over: the builder that sent it, given the outcome. */
async function resolvedMessage(ports: Pick<FlowPorts, 'slack' | 'config'>, row: EscalationRow, ping: SentPing): Promise<SlackMessage> {
  if (ping.via === 'dm') return oncallDmFor(ports, row, ping.user ?? '');
  return chainThreadMessage({
    actionType: row.actionType ?? '',
    agentId: row.agentId ?? '',
    route: row.route ?? '',
    channel: row.channel ?? '',
    urgency: row.urgency ?? 'normal',
    mentions: [],
    resolution: { status: row.status as never, decidedBy: row.decidedBy, decidedAt: row.decidedAt },
  });
}

/** Who had this escalation in their App Home list: the route's approvers and group members, never the agent's owner. */
async function homeAudience(ports: Pick<FlowPorts, 'slack' | 'config'>, row: EscalationRow): Promise<string[]> {
  const route = routeByName(ports.config.current().config, row.route ?? '');
  if (!route) return [];
  const members = route.approvers.usergroup ? await ports.slack.usergroupMembers(route.approvers.usergroup) : [];
  return [...new Set([...route.approvers.users, ...members])].filter((u) => u !== row.agentOwner).slice(0, HOMES_MAX);
}

/**
 * Once an escalation is decided or expired, nothing that asked about it may
 * still read as waiting: every on-call DM and thread ping sent for it is
 * updated in place (chat.update, by the builder that sent it, now saying how
 * it ended), and the App Home of everyone who had it in their list is
 * published again (by a job per user, which a burst of outcomes shares). Done once (`pings_resolved`); a 429 records what was
 * updated so far (`partial`) and waits, and the retry updates only the rest;
 * a message Slack no longer has is recorded as not updated. Updates go
 * unpaced: chat.update is Tier 3, and these are a handful per outcome.
 */
export async function closeLoop(ports: Ports, row: EscalationRow): Promise<CloseLoopResult> {
  // Only a person's decision or the fail-safe ends a wait that pinged anyone (allowed and rejected never did).
  if (row.status !== 'approved' && row.status !== 'denied' && row.status !== 'expired') return { kind: 'skipped' };
  const { pings, resolved, updated: before } = await pingsSent(ports.db, row.id);
  if (resolved) return { kind: 'skipped' };
  const updated: Array<{ channel: string; ts: string }> = [];
  const failed: Array<{ channel: string; ts: string; error: string }> = [];
  const record = (partial: boolean) =>
    recordEvent(ports.db, { escalationId: row.id, executionId: row.executionId, type: 'pings_resolved', actor: 'system', data: { status: row.status, updated, failed, ...(partial ? { partial } : {}) } });
  for (const ping of pings.filter((p) => !before.has(`${p.channel}:${p.ts}`))) {
    try {
      await ports.slack.updateCard(ping.channel, ping.ts, await resolvedMessage(ports, row, ping));
      updated.push({ channel: ping.channel, ts: ping.ts });
    } catch (err) {
      if (err instanceof RateLimitedError) {
        // What is done stays done: the retry updates only the rest.
        await ports.pacer.block(`chat.update:${ping.channel}`, err.retryAfterMs);
        if (updated.length > 0) await record(true);
        return { kind: 'wait', ms: err.retryAfterMs };
      }
      // Slack's definite answer (message_not_found, channel_not_found…) will not change: record it. Anything else retries the job.
      if (!(err instanceof SlackCallError) || !err.definite) {
        if (updated.length > 0) await record(true);
        throw err;
      }
      ports.log.warn({ err: err.message, escalationId: row.id, channel: ping.channel }, 'cannot update an on-call ping');
      failed.push({ channel: ping.channel, ts: ping.ts, error: err.slackError });
    }
  }
  const audience = await homeAudience(ports, row).catch(() => [] as string[]);
  // Published by their own jobs, shared with the other outcomes of the next second (scheduler.ts refreshHomes).
  await ports.scheduler.refreshHomes(audience).catch((err: Error) => ports.log.warn({ err: err.message, escalationId: row.id }, 'cannot queue the App Home refreshes'));
  const homes = audience.length;
  await recordEvent(ports.db, { escalationId: row.id, executionId: row.executionId, type: 'pings_resolved', actor: 'system', data: { status: row.status, updated, failed, homes: audience } });
  return { kind: 'done', updated: updated.length, homes };
}

/**
 * A DM or ping sent while a decision landed: the outcome's update may have
 * read the record before it was there. Called after recording what was sent;
 * when the escalation is already over, those messages are brought up to date here.
 */
export async function resolveLateSends(ports: Pick<FlowPorts, 'db' | 'slack' | 'config' | 'log'>, escalationId: string, sent: readonly SentPing[]): Promise<void> {
  if (sent.length === 0) return;
  const row = await getEscalation(ports.db, escalationId);
  if (!row || (row.status !== 'approved' && row.status !== 'denied' && row.status !== 'expired')) return;
  for (const ping of sent) {
    try {
      await ports.slack.updateCard(ping.channel, ping.ts, await resolvedMessage(ports, row, ping));
    } catch (err) {
      ports.log.warn({ err: (err as Error).message, escalationId, channel: ping.channel }, 'cannot update a late on-call ping');
    }
  }
}
