import type { IncomingMessage, ServerResponse } from 'node:http';
import { getEscalation } from '../db/queries/escalations.js';
import type { Db } from '../db/client.js';
import type { EscalationRow } from '../db/schema/escalations.js';
import { answerOf } from '../flow/answer.js';
import type { AuthorizeResult } from '../flow/authorize.js';
import { describeErrors, type FieldError } from '../domain/validation.js';
import type { DecisionWaiter } from '../queue/decision-waiter.js';
import { json } from './json.js';

/**
 * Largest request body read (bytes). The longest valid escalation is about
 * 120,000 characters of agent text (six 20,000-character fields) plus its
 * params; 1 MiB holds that in any UTF-8 with room for params.
 */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Longest `?wait=` long-poll (s): under the usual 30 s idle timeout of proxies and load balancers. */
export const MAX_WAIT_SEC = 25;
/** A long-poll re-reads Postgres this often even without an announcement, in case one was missed (ms). */
const RECHECK_MS = 5_000;

export interface AuthorizeDeps {
  db: Db;
  /** authorizeRequest (src/flow/authorize.ts) bound to the flow's ports. */
  authorize: (data: unknown) => Promise<AuthorizeResult>;
  waiter: DecisionWaiter;
}

function invalid(res: ServerResponse, error: string, errors: FieldError[]): void {
  json(res, 400, { error, message: describeErrors(errors), errors });
}

/** `/api/escalations/<id>`: where a pending escalation is polled (`Location` of a 202). */
export const escalationPath = (id: string) => `/api/escalations/${id}`;

type BodyResult = { ok: true; value: unknown } | { ok: false; status: number; error: string; message: string };

/** The request's JSON body, at most MAX_BODY_BYTES; a larger one is refused unread past the limit. */
async function readJson(req: IncomingMessage): Promise<BodyResult> {
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return { ok: false, status: 415, error: 'unsupported_media_type', message: 'content-type: must be application/json' };
  const declared = Number(req.headers['content-length'] ?? 0);
  const tooLarge = { ok: false, status: 413, error: 'too_large', message: `body: larger than ${MAX_BODY_BYTES} bytes` } as const;
  if (declared > MAX_BODY_BYTES) return tooLarge;
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === undefined) return tooLarge;
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
  } catch (err) {
    return { ok: false, status: 400, error: 'invalid_json', message: `body: not JSON (${(err as Error).message})` };
  }
}

/**
 * The whole body, or undefined once it passes `limit` bytes (the request is
 * then left unread past the limit). Listeners rather than `for await`:
 * the async iterator costs more than the rest of reading a small body.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      // Read no further: the 413 goes out with `connection: close`, which ends the socket and what is left of the body.
      done();
      req.pause();
      resolve(undefined);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    // The client went away mid-body without an error event: nothing more will come.
    const onClose = () => onError(new Error('request closed before its body was read'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** `?wait=<s>`: 0 (the default) answers at once; up to MAX_WAIT_SEC holds a pending answer until decided. */
export function waitOf(req: IncomingMessage): { ok: true; ms: number } | { ok: false; errors: FieldError[] } {
  const values = new URL(req.url ?? '/', 'http://localhost').searchParams.getAll('wait');
  if (values.length === 0) return { ok: true, ms: 0 };
  const n = Number(values[0]);
  if (values.length > 1 || !/^\d+$/.test(values[0]!) || n > MAX_WAIT_SEC) {
    return { ok: false, errors: [{ path: 'wait', message: `must be a whole number of seconds from 0 to ${MAX_WAIT_SEC}, given once` }] };
  }
  return { ok: true, ms: n * 1000 };
}

/**
 * The escalation's row once it is decided, or as it stands after `ms`, or
 * when the client went away. Decisions are announced after they commit, so
 * the row read after an announcement is the decided one.
 */
export async function untilDecided(deps: Pick<AuthorizeDeps, 'db' | 'waiter'>, id: string, ms: number, res: ServerResponse): Promise<EscalationRow | undefined> {
  const deadline = Date.now() + ms;
  let gone = false;
  let leave!: () => void;
  const left = new Promise<void>((resolve) => (leave = resolve));
  const onClose = () => {
    gone = true;
    leave();
  };
  // The client hung up: stop waiting for it.
  res.once('close', onClose);
  const watch = await deps.waiter.watch(id);
  let heard = false;
  void watch.announced.then(() => void (heard = true));
  try {
    for (;;) {
      const row = await getEscalation(deps.db, id);
      const remaining = deadline - Date.now();
      // Heard: decided (the row read after it shows it), or the process is stopping.
      if (!row || row.status !== 'pending' || remaining <= 0 || gone || heard) return row;
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(remaining, RECHECK_MS))));
      await Promise.race([tick, left, watch.announced]);
      clearTimeout(timer);
    }
  } finally {
    watch.cancel();
    res.off('close', onClose);
  }
}

/**
 * `POST /api/authorize[?wait=<s>]`: the escalation job's decision over HTTP.
 * 200 with `allow` or `deny` (the row is committed before the answer), 202
 * with `pending` and `Location: /api/escalations/<id>` to poll, 400 naming
 * each bad field. The escalation's id makes it idempotent: a repeat gets the
 * escalation's current answer (`code: duplicate`), never a second card.
 */
export async function handleAuthorize(deps: AuthorizeDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const wait = waitOf(req);
  if (!wait.ok) return invalid(res, 'invalid_query', wait.errors);
  const body = await readJson(req);
  if (!body.ok) return json(res, body.status, { error: body.error, message: body.message }, body.status === 413 ? { connection: 'close' } : {});
  const result = await deps.authorize(body.value);
  if (result.kind === 'rejected') return invalid(res, 'invalid_escalation', result.errors);
  let { answer } = result;
  if (answer.decision === 'pending' && wait.ms > 0) {
    const row = await untilDecided(deps, answer.escalationId, wait.ms, res);
    if (row && row.status !== 'pending') answer = answerOf(row);
  }
  if (answer.decision !== 'pending') {
    json(res, 200, answer);
    // The answer goes first; the announcement for other waiters follows it (never rejects).
    return result.announced;
  }
  return json(res, 202, answer, { location: escalationPath(answer.escalationId) });
}
