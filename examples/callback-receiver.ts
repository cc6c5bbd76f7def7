/**
 * Receiving Countersign's signed callback (`callback.url` in the escalation).
 *
 *   CALLBACK_SIGNING_SECRET=... PORT=8080 npx tsx examples/callback-receiver.ts
 *
 * Countersign POSTs the decision JSON with
 *   X-Countersign-Timestamp: <unix seconds>
 *   X-Countersign-Signature: v1=<hex HMAC-SHA256(secret, "v1:{timestamp}:{body}")>
 * and retries with backoff until it gets a 2xx. Verify the raw body before
 * parsing it, and make the handler idempotent: a retry may repeat a delivery.
 */
import { createServer } from 'node:http';
import { verifyCallback, type DecisionMessage } from '../src/index.js';

const secret = process.env.CALLBACK_SIGNING_SECRET;
if (!secret) throw new Error('CALLBACK_SIGNING_SECRET is required');
const port = Number(process.env.PORT ?? 8080);

/** Escalation ids already handled; use your database in real code. */
const handled = new Set<string>();

const server = createServer((req, res) => {
  if (req.method !== 'POST') return void res.writeHead(405).end();
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const ok = verifyCallback({
      secret,
      timestamp: req.headers['x-countersign-timestamp'] as string | undefined,
      signature: req.headers['x-countersign-signature'] as string | undefined,
      body,
      // Rejects timestamps more than 300 s from now (replays).
    });
    if (!ok) return void res.writeHead(401).end('bad signature');

    const decision = JSON.parse(body) as DecisionMessage;
    if (!handled.has(decision.escalationId)) {
      handled.add(decision.escalationId);
      if (decision.proceed === true) {
        console.log(`${decision.escalationId}: approved by ${decision.decision?.by}; resuming the action`);
      } else {
        console.log(`${decision.escalationId}: ${decision.status}; not acting`);
      }
    }
    // Any 2xx stops the retries.
    res.writeHead(204).end();
  });
});

server.listen(port, () => console.log(`listening for Countersign callbacks on :${port}`));
