/**
 * The minimal pipeline that `npm run bench:deployed` measures the bot beside
 * (issue 16): a single-file approval bot with none of Countersign's features,
 * run as its own OS process by plain node (Node strips the types; no tsx, no
 * build). Per escalation: one BullMQ job from the escalations queue, one
 * committed Postgres INSERT, then one chat.postMessage over HTTP keep-alive.
 * Per click: one signed Slack interaction checked, one guarded
 * `UPDATE … WHERE status = 'pending' RETURNING`, committed before the answer,
 * then one signed callback POST. Same durability as the bot on the hot path
 * (nothing posted or answered before its commit), nothing more: no policy,
 * routing, audit chain, card state, outbox, retries or logging.
 *
 * Configured by environment: DATABASE_URL, REDIS_URL, COUNTERSIGN_QUEUE_PREFIX,
 * SLACK_API_URL, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, CALLBACK_SIGNING_SECRET,
 * PORT (0: any), WORKER_CONCURRENCY (50, the bot's default), PG_POOL (20, the
 * bot's). Prints one JSON line with `countersign started` and its port when ready.
 */
import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Worker, type Job } from 'bullmq';
import postgres from 'postgres';

const env = process.env;
const need = (k: string): string => {
  const v = env[k];
  if (!v) throw new Error(`${k} is required`);
  return v;
};
const SLACK_API_URL = need('SLACK_API_URL').replace(/\/?$/, '/');
const TOKEN = need('SLACK_BOT_TOKEN');
const SIGNING_SECRET = need('SLACK_SIGNING_SECRET');
const CALLBACK_SECRET = need('CALLBACK_SIGNING_SECRET');
/** The example config's routing, reduced to its two channels. */
const CHANNELS: Record<string, string> = { refund: 'C0REFUNDS1' };
const OTHER_CHANNEL = 'C0GENERAL1';
const TABLE = 'minimal_escalations';

const sql = postgres(need('DATABASE_URL'), { max: Number(env.PG_POOL ?? 20), onnotice: () => {} });
await sql.unsafe(`create table if not exists ${TABLE} (
  id uuid primary key,
  data jsonb not null,
  status text not null default 'pending',
  decided_by text,
  decided_at timestamptz,
  created_at timestamptz not null default now())`);

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs `body`; resolves with the status and the answer's text. */
function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Escalation {
  id: string;
  issueType?: string;
  action?: { summary?: string; type?: string };
  agent?: { name?: string };
  reasoning?: string;
  callback?: { url?: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Plain text for mrkdwn: Slack's three control characters escaped. */
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function card(e: Escalation) {
  const summary = esc(e.action?.summary ?? e.action?.type ?? 'An action');
  return {
    channel: CHANNELS[e.issueType ?? ''] ?? OTHER_CHANNEL,
    text: `${esc(e.agent?.name ?? 'An agent')} asks: ${summary}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${summary}*\n${esc(e.reasoning ?? '')}`.slice(0, 3000) } },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: 'countersign.approve', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value: e.id },
          { type: 'button', action_id: 'countersign.reject', text: { type: 'plain_text', text: 'Reject' }, style: 'danger', value: e.id },
        ],
      },
    ],
    metadata: { event_type: 'countersign_escalation', event_payload: { escalation_id: e.id } },
  };
}

async function intake(job: Job): Promise<void> {
  const e = job.data as Escalation;
  if (typeof e?.id !== 'string' || !UUID.test(e.id)) throw new Error('invalid escalation: id');
  // Committed before the card goes out; a repeat of the job posts nothing more.
  const inserted = await sql`insert into ${sql(TABLE)} (id, data) values (${e.id}, ${sql.json(e as unknown as postgres.JSONValue)}) on conflict (id) do nothing returning id`;
  if (inserted.length === 0) return;
  const res = await post(`${SLACK_API_URL}chat.postMessage`, JSON.stringify(card(e)), {
    'content-type': 'application/json; charset=utf-8',
    authorization: `Bearer ${TOKEN}`,
  });
  const answer = JSON.parse(res.text) as { ok?: boolean; error?: string };
  if (res.status !== 200 || !answer.ok) throw new Error(`chat.postMessage: ${res.status} ${answer.error ?? ''}`);
}

const worker = new Worker('escalations', intake, {
  connection: { url: env.REDIS_URL ?? 'redis://127.0.0.1:6379', maxRetriesPerRequest: null },
  prefix: env.COUNTERSIGN_QUEUE_PREFIX ?? 'countersign',
  concurrency: Number(env.WORKER_CONCURRENCY ?? 50),
});
worker.on('error', () => {});

function signedBySlack(req: http.IncomingMessage, body: string): boolean {
  const ts = Number(req.headers['x-slack-request-timestamp']);
  const given = req.headers['x-slack-signature'];
  if (!Number.isInteger(ts) || typeof given !== 'string' || Math.abs(Date.now() / 1000 - ts) > 300) return false;
  const expected = Buffer.from(`v0=${createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`);
  const g = Buffer.from(given);
  return expected.length === g.length && timingSafeEqual(expected, g);
}

interface Interaction {
  type?: string;
  user?: { id?: string };
  actions?: Array<{ action_id?: string; value?: string }>;
}

async function click(body: string): Promise<(() => Promise<void>) | undefined> {
  const payload = JSON.parse(new URLSearchParams(body).get('payload') ?? '{}') as Interaction;
  const action = payload.actions?.[0];
  const id = action?.value;
  if (payload.type !== 'block_actions' || !id || !UUID.test(id) || !payload.user?.id) return undefined;
  const decision = action.action_id === 'countersign.approve' ? 'approved' : 'rejected';
  const [row] = await sql<{ url: string | null; decided_at: Date }[]>`
    update ${sql(TABLE)} set status = ${decision}, decided_by = ${payload.user.id}, decided_at = now()
    where id = ${id} and status = 'pending'
    returning data->'callback'->>'url' as url, decided_at`;
  if (!row?.url) return undefined;
  const url = row.url;
  const out = JSON.stringify({ escalationId: id, decision, decidedBy: payload.user.id, decidedAt: row.decided_at.toISOString() });
  return async () => {
    const ts = Math.floor(Date.now() / 1000);
    const signature = `v1=${createHmac('sha256', CALLBACK_SECRET).update(`v1:${ts}:${out}`).digest('hex')}`;
    await post(url, out, { 'content-type': 'application/json', 'x-countersign-timestamp': String(ts), 'x-countersign-signature': signature });
  };
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST' || req.url !== '/slack/events' || !signedBySlack(req, body)) {
      res.writeHead(401).end();
      return;
    }
    // Answered once the decision is committed; the callback goes out after the answer.
    click(body).then(
      (callback) => {
        res.writeHead(200, { 'content-length': '0' }).end();
        callback?.().catch(() => {});
      },
      () => res.writeHead(500).end(),
    );
  });
});
await new Promise<void>((r) => server.listen(Number(env.PORT ?? 0), '127.0.0.1', r));
await worker.waitUntilReady();
process.stdout.write(`${JSON.stringify({ level: 30, msg: 'countersign started', pipeline: 'minimal', port: (server.address() as AddressInfo).port })}\n`);

const stop = async () => {
  server.close();
  server.closeAllConnections();
  await worker.close();
  await sql.end({ timeout: 2 });
  agent.destroy();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
