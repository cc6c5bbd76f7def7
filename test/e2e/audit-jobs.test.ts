import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAnchor } from '../../src/domain/audit-anchor.js';
import { MAINTENANCE_QUEUE } from '../../src/queue/names.js';
import { withBotAndCallbacks } from '../support/bot-hooks.js';
import { exampleConfigText, makeEscalation, type Harness } from '../support/harness.js';
import { REDIS_URL, eventually } from '../support/services.js';

const AUDIT_CHANNEL = 'C0AUDIT001';
let h: Harness;
withBotAndCallbacks((bot) => ({ h } = bot), {
  config: `${exampleConfigText}
audit:
  anchor: { channel: ${AUDIT_CHANNEL}, everyMinutes: 60 }
  retention: { years: 7 }
`,
});
let maintenance: Queue | undefined;
afterAll(async () => {
  await maintenance?.close();
});

describe('the audit maintenance jobs in the running bot', () => {
  it('anchors the sealed chain head in the configured channel when the anchor job runs', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    await h.card(e.id);
    // The sealer links events once they are 5 s old.
    const head = await eventually(async () => {
      const [r] = await h.sql<{ event_id: string }[]>`select c.event_id from audit_chain c join events e on e.id = c.event_id where e.escalation_id = ${e.id} order by c.event_id desc limit 1`;
      return r ? Number(r.event_id) : undefined;
    }, 'sealed', 20_000);

    maintenance = new Queue(MAINTENANCE_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    await maintenance.add('audit-anchor', {}, { jobId: `anchor-now-${Date.now()}` });
    const posted = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && c.args.channel === AUDIT_CHANNEL, 15_000);
    const anchor = parseAnchor(String(posted.args.text));
    expect(anchor?.eventId).toBeGreaterThanOrEqual(head);
    const [link] = await h.sql<{ hash: string }[]>`select hash from audit_chain where event_id = ${anchor!.eventId}`;
    expect(anchor!.hash).toBe(link!.hash);
    const recorded = await eventually(async () => {
      const [r] = await h.sql<{ data: { eventId: number } }[]>`select data from events where type = 'audit_anchored'`;
      return r?.data;
    }, 'audit_anchored recorded');
    expect(recorded.eventId).toBe(anchor!.eventId);
  }, 45_000);

  it('runs retention with nothing to prune yet, and records nothing', async () => {
    const job = await maintenance!.add('audit-retention', {}, { jobId: `retention-now-${Date.now()}` });
    await eventually(async () => ((await job.getState()) === 'completed' ? true : undefined), 'retention job completed', 15_000);
    const done = await maintenance!.getJob(job.id!);
    expect(done?.returnvalue).toMatchObject({ kind: 'skipped', reason: 'nothing_expired' });
    expect(await h.sql`select 1 from audit_checkpoints`).toHaveLength(0);
  });
});
