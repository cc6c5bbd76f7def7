import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/file.js';
import { start, type Running } from '../../src/main.js';
import { APPROVER, exampleConfigText, makeEscalation, startHarness, type Harness } from '../support/harness.js';

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

  it('the worker-only process answers /healthz and nothing else', async () => {
    expect((await fetch(`http://127.0.0.1:${worker.port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${worker.port}/slack/events`, { method: 'POST' })).status).toBe(404);
  });
});
