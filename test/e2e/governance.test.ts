import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import type { EscalationInput } from '../../src/domain/escalation.js';
import { GOVERNANCE_QUEUE } from '../../src/queue/names.js';
import { createGovernanceQueue } from '../../src/queue/governance.js';
import { APPROVER, SIGNING_SECRET, exampleConfigText, makeEscalation, startHarness, type Harness, makePurchase } from '../support/harness.js';
import { postSigned, slashCommandBody } from '../support/slack-signing.js';
import { REDIS_URL, eventually } from '../support/services.js';

const TEAM_CHANNEL = 'C0REVIEWS1';
const REPORT_CHANNEL = 'C0GOVERN01';
const config = `${exampleConfigText}
reviews:
  weekly:
    - channel: ${TEAM_CHANNEL}
      agents: [procurement-agent]
      percent: 100
      cron: "0 9 * * MON"
      tz: Europe/Berlin
reports:
  monthly:
    channel: ${REPORT_CHANNEL}
    tz: Europe/Berlin
`;

let h: Harness;
let queue: Queue;
beforeAll(async () => {
  h = await startHarness({ config });
  queue = new Queue(GOVERNANCE_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
});
afterAll(async () => {
  await queue?.close();
  await h?.close();
});


describe('weekly batch review', () => {
  it('registers a BullMQ job scheduler per team channel with its cron pattern and time zone, and one for the monthly report', async () => {
    const weekly = await eventually(() => queue.getJobScheduler('weekly-review:C0REVIEWS1'), 'the weekly scheduler');
    expect(weekly).toMatchObject({ pattern: '0 9 * * MON', tz: 'Europe/Berlin' });
    expect(weekly.template?.data).toEqual({ kind: 'weekly', channel: TEAM_CHANNEL, agents: ['procurement-agent'], percent: 100, days: 7 });
    expect(await queue.getJobScheduler('monthly-report')).toMatchObject({ pattern: '0 9 1 * *', tz: 'Europe/Berlin' });
  });

  it("posts the sample in a thread in the team channel when the scheduler's job runs, once per run", async () => {
    for (const amount of [15, 25]) expect(await h.client.authorize(makePurchase(amount))).toMatchObject({ decision: 'allow' });
    const weekly = (await queue.getJobScheduler('weekly-review:C0REVIEWS1'))!;
    // The job the scheduler would add at its next tick, added now (a retry of the same run has the same id).
    await queue.add('weekly', weekly.template!.data, { jobId: 'weekly-test-run' });
    const thread = await eventually(async () => {
      const head = h.fake.messages(TEAM_CHANNEL).find((m) => m.text === 'Batch review: 0 of 2 reviewed');
      const replies = head ? h.fake.messages(TEAM_CHANNEL).filter((m) => m.thread_ts === head.ts) : [];
      return head && replies.length === 2 ? { head, replies } : undefined;
    }, 'the weekly sample in the team channel');
    expect(JSON.stringify(thread.head.blocks)).toContain('Batch review of `procurement-agent`');
    const samples = await h.sql`select requested_by, destination, run_key, population from review_samples where channel = ${TEAM_CHANNEL}`;
    expect(samples).toEqual([{ requested_by: 'schedule:weekly:C0REVIEWS1', destination: 'thread', run_key: 'weekly-test-run:procurement-agent', population: 2 }]);

    // A retry of the same run (same job id) finds its sample instead of drawing and posting again.
    await (await queue.getJob('weekly-test-run'))!.remove();
    const rerun = await queue.add('weekly', weekly.template!.data, { jobId: 'weekly-test-run' });
    await eventually(async () => ((await rerun.getState()) === 'completed' ? true : undefined), 'the rerun');
    expect(await h.sql`select count(*)::int as n from review_samples where channel = ${TEAM_CHANNEL}`).toEqual([{ n: 1 }]);
    expect(h.fake.messages(TEAM_CHANNEL)).toHaveLength(3);
  });

  it('samples exception-only agents that no weekly entry covers, in their alert channel, every Monday in the policy time zone', async () => {
    // The example's support-agent runs exception-only; this config's weekly sample covers only procurement-agent.
    const scheduler = await eventually(() => queue.getJobScheduler('exception-only-review'), 'the exception-only scheduler');
    expect(scheduler).toMatchObject({ pattern: '0 9 * * MON', tz: 'UTC' });
    const read = makeEscalation({ issueType: 'support', confidence: 0.95, action: { type: 'crm.read', params: { account: 'ACME-0042' }, reversible: true } });
    expect(await h.client.authorize(read)).toMatchObject({ decision: 'allow' });
    await queue.add('exception_only', scheduler.template!.data, { jobId: 'exception-only-test-run' });
    const head = await eventually(
      async () => h.fake.messages(REPORT_CHANNEL).find((m) => JSON.stringify(m.blocks ?? '').includes('Batch review of `support-agent`')),
      'the exception-only sample in the alert channel',
    );
    await eventually(async () => (h.fake.messages(REPORT_CHANNEL).some((m) => m.thread_ts === head.ts) ? true : undefined), 'its review card');
    const samples = await h.sql`select agent_id, requested_by, percent from review_samples where run_key = 'exception-only-test-run:support-agent'`;
    expect(samples).toEqual([{ agent_id: 'support-agent', requested_by: 'schedule:exception-only', percent: 5 }]);
    // procurement-agent is exception-only too, but the team channel's weekly sample already covers it.
    expect(await h.sql`select count(*)::int as n from review_samples where run_key like 'exception-only-test-run:procurement%'`).toEqual([{ n: 0 }]);
  });

  it('removes the schedulers that left the config on reload', async () => {
    const governance = createGovernanceQueue({ url: REDIS_URL }, h.prefix);
    try {
      const without = parseConfig(exampleConfigText, 'config without schedules').config;
      const r = await governance.sync(without);
      expect(r.removed.sort()).toEqual(['monthly-report', 'weekly-review:C0REVIEWS1']);
      expect(await queue.getJobScheduler('weekly-review:C0REVIEWS1')).toBeUndefined();
      // Back as configured, for the next test.
      await governance.sync(parseConfig(config, 'config').config);
      expect(await queue.getJobScheduler('monthly-report')).toMatchObject({ pattern: '0 9 1 * *' });
    } finally {
      await governance.close();
    }
  });
});

describe('monthly governance report', () => {
  const RULE = 'policy.agents[1].actions[0].rules[0]';
  const oct = (day: number, hour: number, sec = 0) => new Date(Date.UTC(2026, 9, day, hour, 0, sec));

  async function escalation(o: { status: string; decidedBy: string | null; created: Date; decided?: Date; tier?: string; rule?: string; triggers?: string[]; review?: string; code?: string }) {
    const id = randomUUID();
    const triggers = o.triggers ? h.sql.json(o.triggers.map((kind) => ({ kind, message: kind }))) : null;
    await h.sql`insert into escalations (id, status, agent_id, action_type, decided_by, decided_at, created_at, tier, policy_rule, triggers, review_state, decision_code)
      values (${id}, ${o.status}, 'procurement-agent', 'purchases.create', ${o.decidedBy}, ${o.decided ?? o.created}, ${o.created}, ${o.tier ?? null}, ${o.rule ?? null},
        ${triggers}, ${o.review ?? 'none'}, ${o.code ?? null})`;
    return id;
  }

  it("posts last month's figures per agent: volume, error rate, budget, reasons, time to decision, mode changes and proposals; and on demand with /countersign report", async () => {
    // Ten human decisions taking 1..10 minutes: p50 330 s, p90 546 s. Eight approved, two denied.
    for (let i = 0; i < 10; i++) {
      const created = oct(10, 8 + i);
      await escalation({
        status: i < 8 ? 'approved' : 'denied', decidedBy: APPROVER, created, decided: new Date(created.getTime() + (i + 1) * 60_000),
        tier: 'restricted', rule: RULE, triggers: i < 3 ? ['low_confidence'] : i === 3 ? ['high_stakes'] : undefined,
      });
    }
    const allowed: string[] = [];
    for (let i = 0; i < 20; i++) allowed.push(await escalation({ status: 'allowed', decidedBy: 'policy', created: oct(12, 10, i), tier: 'autonomous' }));
    await escalation({ status: 'allowed', decidedBy: 'policy', created: oct(13, 10), tier: 'supervised', review: 'wrong' });
    await escalation({ status: 'denied', decidedBy: 'policy', created: oct(14, 10), tier: 'autonomous' });
    await escalation({ status: 'denied', decidedBy: 'policy', created: oct(14, 11), code: 'budget_paused' });
    // A failed outcome, an incorrect batch-review verdict, spend on two days, a demotion.
    await h.sql`insert into outcomes (id, escalation_id, execution_id, agent_id, action_type, step, success, at)
      values (${randomUUID()}, ${allowed[0]!}, 'exec-1', 'procurement-agent', 'purchases.create', 'purchases.create', false, ${oct(12, 11)})`;
    await h.sql`insert into review_sample_items (sample_id, escalation_id, position, agent_id, action_type, verdict, reviewed_by, reviewed_at)
      values (${randomUUID()}, ${allowed[1]!}, 0, 'procurement-agent', 'purchases.create', 'incorrect', ${APPROVER}, ${oct(20, 9)})`;
    for (const [day, usd] of [[5, 100], [5, 50], [6, 470]] as const) {
      await h.sql`insert into spend_ledger (agent_id, execution_id, kind, usd_micros, at) values ('procurement-agent', 'exec-1', 'action', ${usd * 1_000_000}, ${oct(day, 12)})`;
    }
    await h.sql`insert into events (type, actor, at, data) values ('mode_demoted', 'system', ${oct(15, 9)}, ${h.sql.json({ agentId: 'procurement-agent' })})`;

    // The monthly job, naming its month (a scheduler's run reports the month before the run).
    await queue.add('monthly', { kind: 'monthly', month: '2026-10' }, { jobId: 'monthly-test-run' });
    const report = await eventually(async () => h.fake.messages(REPORT_CHANNEL).find((m) => m.text.startsWith('Governance review for 2026-10')), 'the monthly report');
    const text = JSON.stringify(report.blocks).replace(/\\n/g, '\n');
    const section = text.slice(text.indexOf('`procurement-agent`'));
    expect(section).toContain('*Volume:* 33 requests, 32 actions');
    expect(section).toContain('*Error rate:* 18.75% (6 errors in 32 actions)');
    expect(section).toContain('*Budget:* $620.00 spent · peak day $470.00 of $500.00 daily cap');
    expect(section).toContain(`tier restricted 10, supervised 1; triggers low_confidence 3, high_stakes 1; rules ${RULE} 10`);
    expect(section).toContain('*Time to decision:* p50 6 min, p90 9 min (10 decisions)');
    expect(section).toContain('*Promotions and demotions:* mode_demoted 1');
    expect(section).toContain('Tighten: error rate 18.75% (6 errors in 32 actions) is at or above 5%; raise confidenceThreshold to 0.75');
    expect(section).toContain('Budget: the peak day spent $470.00, 94% of the $500.00 daily cap');
    const posted = await eventually(async () => (await h.sql`select data from events where type = 'governance_report_posted'`)[0], 'the report event');
    expect(posted.data).toMatchObject({ month: '2026-10', channel: REPORT_CHANNEL, ts: report.ts });

    // The same report on demand, to the caller alone; a malformed month is named.
    const ask = (text: string) => postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, slashCommandBody({ command: '/countersign', text, userId: APPROVER, channelId: REPORT_CHANNEL, responseUrl: h.fake.responseUrl }));
    await ask('report 2026-10');
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('Governance review for 2026-10'));
    expect(reply.args.response_type).toBe('ephemeral');
    expect(JSON.stringify(reply.args.blocks)).toContain('*Error rate:* 18.75% (6 errors in 32 actions)');
    // `/countersign agent` counts the same way, over all time: October's 32 actions and 6 errors,
    // and the two purchases the weekly-sample test made, which succeeded.
    await ask('agent procurement-agent');
    const agent = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('*Agent `procurement-agent`*'));
    expect(String(agent.args.text)).toContain('28 successful of 34 actions, 6 errors (17.65%)');
    await ask('report October');
    const bad = await h.fake.waitFor((c) => c.method === 'response_url' && String(c.args.text).startsWith('Cannot build that report'));
    expect(String(bad.args.text)).toContain('the month must look like 2026-10 (got "October")');
  });

  it("reports, at a scheduler's run, the calendar month before the run in the report's time zone", async () => {
    // 2026-10-31 23:30 UTC is already 1 November in Berlin: the run reports October.
    const runAt = Date.UTC(2026, 9, 31, 23, 30);
    const reports = () => h.sql`select data from events where type = 'governance_report_posted' order by id`;
    const before = (await reports()).length;
    await queue.add('monthly', { kind: 'monthly' }, { jobId: 'monthly-scheduled-run', timestamp: runAt });
    const posted = await eventually(async () => (await reports())[before], 'the scheduled report event');
    expect(posted.data).toMatchObject({ month: '2026-10', channel: REPORT_CHANNEL });
  });

  it('refuses a monthly job whose month is malformed, naming the field, without retrying it', async () => {
    const job = await queue.add('monthly', { kind: 'monthly', month: '2026-13' }, { jobId: 'monthly-bad-month', attempts: 5 });
    const failed = await eventually(async () => ((await job.getState()) === 'failed' ? await queue.getJob(job.id!) : undefined), 'the rejected job');
    expect(failed!.failedReason).toContain('month: expected a month like 2026-10');
    expect(failed!.attemptsMade).toBe(1);
  });
});
