import { signCallback } from '../domain/callback-signature.js';
import { getEscalationGrouped } from '../db/queries/card-batch.js';
import { recordEvent } from '../db/queries/events.js';
import type { FlowPorts } from './ports.js';
import { messageOf } from './notify.js';

/** Per attempt; a slow agent endpoint must not hold a worker slot for long (ms). */
const CALLBACK_TIMEOUT_MS = 10_000;

export class CallbackFailedError extends Error {
  override name = 'CallbackFailedError';
}

/**
 * Step 8: POST the decision to the agent's callback URL, signed. Throws on a
 * non-2xx so that the queue retries with backoff until it gets one.
 */
export async function deliverCallback(
  ports: Pick<FlowPorts, 'db' | 'now'> & { secret: string | undefined; fetch?: typeof fetch },
  escalationId: string,
  attempt: number,
): Promise<'delivered' | 'skipped'> {
  const row = await getEscalationGrouped(ports.db, escalationId);
  if (!row?.callbackUrl || row.status === 'pending') return 'skipped';
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
  const body = JSON.stringify(messageOf(row));
  const ts = Math.floor(ports.now().getTime() / 1000);
  const doFetch = ports.fetch ?? fetch;
  let status: number;
  try {
    const res = await doFetch(row.callbackUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Countersign/0.1',
        'x-countersign-timestamp': String(ts),
        'x-countersign-signature': signCallback(ports.secret, ts, body),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
    });
    status = res.status;
    await res.body?.cancel();
  } catch (err) {
    throw new CallbackFailedError(`callback to ${new URL(row.callbackUrl).host} failed: ${(err as Error).message}`);
  }
  if (status < 200 || status >= 300) {
    throw new CallbackFailedError(`callback to ${new URL(row.callbackUrl).host} answered ${status}`);
  }
  await recordEvent(ports.db, {
    escalationId,
    executionId: row.executionId,
    type: 'agent_notified',
    actor: 'system',
    data: { via: 'callback', httpStatus: status, attempt },
  });
  return 'delivered';
}
