import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/file.js';
import { start, type Running } from '../../src/main.js';
import { API_TOKEN, APPROVER, exampleConfigText, makeEscalation, startHarness, type Harness } from '../support/harness.js';

/**
 * Web and workers scale apart: the harness's own process runs as `web`
 * only, and a second process-in-miniature runs the workers.
 */
let h: Harness;
let worker: Running;

beforeAll(async () => {
  h = await startHarness({ env: { COUNTERSIGN_ROLE: 'web' } });
  worker = await start(loadEnv(h.envFor({ COUNTERSIGN_ROLE: 'worker', MIGRATE_ON_START: 'false' })), parseConfig(exampleConfigText));
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

describe('split roles', () => {
  it('a web-only process takes clicks while a worker-only process posts cards and hands decisions back', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
    await h.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts);
    expect((await h.client.waitForDecision(e.id, { timeoutMs: 10_000 })).status).toBe('approved');
  });

  it('the worker-only process answers the probes and /metrics (with a token) and nothing else', async () => {
    const at = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${worker.port}${path}`, init);
    expect((await at('/healthz')).status).toBe(200);
    expect((await at('/readyz')).status).toBe(200);
    expect((await at('/livez')).status).toBe(200);
    expect((await at('/metrics')).status).toBe(401);
    const metrics = await at('/metrics', { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('countersign_queue_jobs{queue="escalations",state="waiting"}');
    expect((await at('/slack/events', { method: 'POST' })).status).toBe(404);
    expect((await at('/api/audit')).status).toBe(404);
  });
});
