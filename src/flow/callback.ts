import { signCallback } from '../domain/callback-signature.js';
import { getEscalationGrouped } from '../db/queries/card-batch.js';
import { recordEvent } from '../db/queries/events.js';
import { claimCallback, markCallbackDelivered, releaseCallback, type CallbackKind } from '../db/queries/leases.js';
import type { FlowPorts } from './ports.js';
import { messageOf } from './notify.js';
import { callbackHosts } from '../domain/callback-hosts.js';
import { CallbackRefusedError, StepHeldError } from '../errors.js';

/** Per attempt; a slow agent endpoint must not hold a worker slot for long (ms). */
const CALLBACK_TIMEOUT_MS = 10_000;

export class CallbackFailedError extends Error {
  override name = 'CallbackFailedError';
}


/**
 * Step 8: POST the decision to the agent's callback URL, signed. Throws on a
 * non-2xx so that the queue retries with backoff until it gets one. A URL or
 * address the config does not allow, or a redirect (never followed), is
 * recorded and not retried: 'refused'.
 *
 * `fetch` must refuse, with a CallbackRefusedError, to connect where
 * `callbackHosts(…).refuseAddress` says no (`createHttpFetch({ guard })`).
 */
export async function deliverCallback(
  ports: Pick<FlowPorts, 'db' | 'now' | 'config' | 'leaseMs'> & { secret: string | undefined; fetch: typeof fetch },
  escalationId: string,
  attempt: number,
  /** Which callback: the decision's, or the second one a "wrong" review owes. */
  kind: CallbackKind = 'decision',
): Promise<'delivered' | 'skipped' | 'refused'> {
  const row = await getEscalationGrouped(ports.db, escalationId);
  if (!row?.callbackUrl || row.status === 'pending') return 'skipped';
  const refuse = async (error: string) => {
    await recordEvent(ports.db, {
      escalationId,
      executionId: row.executionId,
      type: 'agent_notify_failed',
      actor: 'system',
      data: { via: 'callback', error, refused: true },
    });
    return 'refused' as const;
  };
  // Checked again here: the config may have changed since intake.
  const refused = callbackHosts(ports.config.current().config.callbacks.allowedHosts).refuseUrl(row.callbackUrl);
  if (refused) return refuse(refused);
  if (!ports.secret) {
    // Never sent unsigned. Kept for retry, so setting the secret and restarting delivers it.
    if (attempt === 1) {
      await recordEvent(ports.db, {
        escalationId,
        executionId: row.executionId,
        type: 'agent_notify_failed',
        actor: 'system',
        data: { via: 'callback', error: 'CALLBACK_SIGNING_SECRET is not set' },
      });
    }
    throw new CallbackFailedError('CALLBACK_SIGNING_SECRET is not set; callbacks are never sent unsigned');
  }
  // One delivery in flight per escalation, and none after one succeeded: a job BullMQ
  // runs twice at once (a lapsed lock) or again after a crash waits or stops here.
  const now = ports.now();
  const claim = await claimCallback(ports.db, escalationId, kind, now, ports.leaseMs);
  if (claim.kind === 'done') return 'skipped';
  if (claim.kind === 'held') throw new StepHeldError('callback', Math.max(1, claim.untilMs - now.getTime()));
  const body = JSON.stringify(messageOf(row));
  const ts = Math.floor(now.getTime() / 1000);
  let status: number;
  try {
    const res = await ports.fetch(row.callbackUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Countersign/0.1',
        'x-countersign-timestamp': String(ts),
        'x-countersign-signature': signCallback(ports.secret, ts, body),
        // The same on every attempt and after a crash (delivery is at least once): the agent's dedupe key.
        'x-countersign-delivery': `${escalationId}:${kind}`,
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
    });
    status = res.status;
    await res.body?.cancel();
  } catch (err) {
    await releaseCallback(ports.db, escalationId, kind);
    if (err instanceof CallbackRefusedError) return refuse(err.message);
    throw new CallbackFailedError(`callback to ${new URL(row.callbackUrl).host} failed: ${(err as Error).message}`);
  }
  if (status < 200 || status >= 300) await releaseCallback(ports.db, escalationId, kind);
  if (status >= 300 && status < 400) return refuse(`answered ${status}: redirects are not followed`);
  if (status < 200 || status >= 300) {
    throw new CallbackFailedError(`callback to ${new URL(row.callbackUrl).host} answered ${status}`);
  }
  await markCallbackDelivered(ports.db, escalationId, kind, ports.now(), {
    escalationId,
    executionId: row.executionId,
    type: 'agent_notified',
    actor: 'system',
    data: { via: 'callback', httpStatus: status, attempt },
  });
  return 'delivered';
}
