import { anchorText } from '../domain/audit-anchor.js';
import { chainHead, lastAnchor } from '../db/queries/audit-anchor.js';
import { recordEvent } from '../db/queries/events.js';
import { textMessage } from '../slack/cards/notices.js';
import type { FlowPorts } from './ports.js';

export type AnchorResult =
  | { kind: 'posted'; eventId: number; hash: string; ts: string }
  | { kind: 'skipped'; reason: 'not_configured' | 'not_due' | 'empty' | 'unchanged' };

/**
 * Posts the chain head to `audit.anchor.channel` once `everyMinutes` have
 * passed since the last anchor, and records it (`audit_anchored`). The job
 * runs every minute; the config decides whether it does anything, so a reload
 * takes effect without rescheduling. A head already anchored is not posted again.
 */
export async function anchorChain(ports: Pick<FlowPorts, 'db' | 'slack' | 'config' | 'now'>): Promise<AnchorResult> {
  const anchor = ports.config.current().config.audit?.anchor;
  if (!anchor) return { kind: 'skipped', reason: 'not_configured' };
  const last = await lastAnchor(ports.db);
  const now = ports.now();
  // Due by the flow's own clock, against the time it recorded with the last anchor (not the database's).
  if (last && now.getTime() - last.at.getTime() < anchor.everyMinutes * 60_000) return { kind: 'skipped', reason: 'not_due' };
  const head = await chainHead(ports.db);
  if (!head) return { kind: 'skipped', reason: 'empty' };
  if (last?.eventId === head.eventId) return { kind: 'skipped', reason: 'unchanged' };
  const text = anchorText(head);
  const { ts } = await ports.slack.post(anchor.channel, textMessage(text));
  await recordEvent(ports.db, {
    type: 'audit_anchored',
    actor: 'system',
    data: { channel: anchor.channel, ts, eventId: head.eventId, hash: head.hash, count: head.count, anchoredAt: now.toISOString() },
  });
  return { kind: 'posted', eventId: head.eventId, hash: head.hash, ts };
}
