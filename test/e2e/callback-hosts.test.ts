import { Job, QueueEvents } from 'bullmq';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESCALATIONS_QUEUE } from '../../src/queue/names.js';
import { startCallbackServer } from '../support/callback-server.js';
import { APPROVER, exampleConfigText, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { REDIS_URL, eventually } from '../support/services.js';

// Callbacks go only where `callbacks.allowedHosts` says (src/domain/callback-hosts.ts): checked at
// intake, then again on connecting, against the address the host name resolved to.

/** The example config allowing callbacks to these hosts only (the harness's own sink left out). */
function configAllowing(hosts: string[]): string {
  const doc = parseDocument(exampleConfigText);
  doc.setIn(['callbacks', 'allowedHosts'], hosts);
  return doc.toString();
}

type Sink = Awaited<ReturnType<typeof startCallbackServer>>;
const notifyFailures = (h: Harness, id: string) =>
  h.sql<Array<{ data: { error: string; refused?: boolean } }>>`select data from events where escalation_id = ${id} and type = 'agent_notify_failed'`;

/** Enqueues an escalation calling back to `url`, approves its card, and waits for the callback step's refusal. */
async function approveAndAwaitRefusal(h: Harness, url: string) {
  const e = makeEscalation({ callback: { url } });
  await h.enqueue(e);
  await h.click(APPROVER, 'countersign.approve', await h.card(e.id));
  const [failure] = await eventually(async () => {
    const rows = await notifyFailures(h, e.id);
    return rows.length > 0 ? rows : undefined;
  }, 'the refused callback recorded');
  return { e, failure: failure!.data };
}

describe('callbacks under callbacks.allowedHosts: [127.0.0.2] (a loopback sink, listed by its address)', () => {
  let h: Harness;
  let events: QueueEvents;
  let sink: Sink;

  beforeAll(async () => {
    h = await startHarness({ config: configAllowing(['127.0.0.2']), listCallbackSink: false });
    sink = await startCallbackServer({ host: '127.0.0.2' });
    events = new QueueEvents(ESCALATIONS_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await events?.close();
    await h?.close();
    await sink?.close();
  });

  // The list, then the rest of each refused range, a host outside the list, and other spellings of loopback.
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/',
    'http://metadata.google.internal/',
    'http://10.0.0.1/',
    'http://localhost:22/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://172.16.0.1/',
    'http://172.31.255.254/',
    'http://192.168.1.1/',
    'http://[fc00::1]/',
    'http://[fd12:3456::1]/',
    'http://169.254.1.1/',
    'http://[fe80::1]/',
    'http://app.localhost/',
    'https://agents.example.com/countersign/callback',
  ])('rejects %s at intake, once, naming callback.url, and records it without the URL', async (url) => {
    const e = makeEscalation({ callback: { url } });
    const job = await h.queue.add('escalation', e, { jobId: e.id, attempts: 5, backoff: { type: 'fixed', delay: 10 } });
    await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow(/callback\.url/);
    const stored = (await Job.fromId(h.queue, e.id))!;
    expect(await stored.getState()).toBe('failed');
    expect(stored.attemptsMade).toBe(1);
    expect(stored.failedReason).toMatch(/^Invalid escalation: callback\.url: /);

    const [row] = await h.sql<Array<{ status: string; errors: Array<{ path: string }>; callback_url: string | null }>>`
      select status, errors, callback_url from escalations where id = ${e.id}`;
    expect(row).toMatchObject({ status: 'rejected', callback_url: null });
    expect(row!.errors.map((x) => x.path)).toEqual(['callback.url']);
    const rejected = await h.sql`select 1 from events where escalation_id = ${e.id} and type = 'rejected'`;
    expect(rejected).toHaveLength(1);
  });

  it('delivers the decision to the listed loopback sink', async () => {
    const e = makeEscalation({ callback: { url: sink.url } });
    await h.enqueue(e);
    await h.click(APPROVER, 'countersign.approve', await h.card(e.id));
    expect((await sink.waitFor(e.id)).json).toMatchObject({ escalationId: e.id, status: 'approved' });
  });

  it('does not follow a redirect, even to a listed host: the refusal is recorded and not retried', async () => {
    const redirector = await startCallbackServer({ host: '127.0.0.2', redirectTo: sink.url });
    try {
      const { e, failure } = await approveAndAwaitRefusal(h, redirector.url);
      expect(failure).toMatchObject({ refused: true, error: 'answered 307: redirects are not followed' });
      expect(redirector.redirected()).toBe(1);
      expect(sink.received.filter((c) => c.json.escalationId === e.id)).toEqual([]);
    } finally {
      await redirector.close();
    }
  });
});

describe('callbacks under callbacks.allowedHosts: [localhost] (a name allowed, its loopback address not)', () => {
  let h: Harness;
  let sink: Sink;

  beforeAll(async () => {
    h = await startHarness({ config: configAllowing(['localhost']), listCallbackSink: false });
    sink = await startCallbackServer({ host: '127.0.0.1' });
  });
  afterAll(async () => {
    await h?.close();
    await sink?.close();
  });

  it('accepts the escalation, then refuses to connect to the internal address the name resolves to (DNS rebinding)', async () => {
    const { e, failure } = await approveAndAwaitRefusal(h, `http://localhost:${sink.port}/callback`);
    expect(failure.refused).toBe(true);
    expect(failure.error).toMatch(/^(127\.0\.0\.1|::1) is a loopback address \(localhost resolves to it\)/);
    expect(sink.received).toEqual([]);
    const [row] = await h.sql<Array<{ status: string }>>`select status from escalations where id = ${e.id}`;
    expect(row!.status).toBe('approved');
  });
});
