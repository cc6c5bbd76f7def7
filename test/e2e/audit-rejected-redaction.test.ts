import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks } from '../support/bot-hooks.js';
import { API_TOKEN, exampleConfigText, makeEscalation, type Harness } from '../support/harness.js';
import { OUTCOMES_QUEUE } from '../../src/queue/names.js';
import { REDIS_URL, eventually } from '../support/services.js';

let h: Harness;
const config = `${exampleConfigText}
audit:
  redact:
    patterns:
      - { name: employee, regex: "EMP-\\\\d{6}" }
`;
withBotAndCallbacks((bot) => ({ h } = bot), { config });

const RAW = ['jane.doe@example.com', '4111 1111 1111 1111', '4111111111111111', 'EMP-123456'];

type Rejected = { escalation_id: string | null; data: { errors: Array<{ path: string; message: string }>; jobId: string | null } };

describe('PII in a job that fails validation', () => {
  it('is masked in the rejected escalation row, its decision reason, its rejected event and the agent’s answer', async () => {
    const e = makeEscalation() as Record<string, unknown> & { id: string };
    // Unknown keys are quoted in the error messages: here they are the customer's email, card and employee id.
    e['jane.doe@example.com'] = true;
    e['4111 1111 1111 1111'] = true;
    e['EMP-123456'] = true;
    await h.enqueue(e);

    const row = await eventually(async () => {
      const [r] = await h.sql<Array<{ status: string; errors: unknown; decision_reason: string | null }>>`
        select status, errors, decision_reason from escalations where id = ${e.id}`;
      return r;
    }, 'rejected row');
    expect(row.status).toBe('rejected');
    const [event] = await h.sql<Rejected[]>`select escalation_id, data from events where type = 'rejected' and escalation_id = ${e.id}`;
    const stored = [JSON.stringify(row.errors), row.decision_reason ?? '', JSON.stringify(event!.data)];
    for (const text of stored) {
      for (const raw of RAW) expect(text).not.toContain(raw);
      expect(text).toContain('j***@example.com');
      expect(text).toContain('[card ••••1111]');
      expect(text).toContain('[employee]');
    }
    expect(row.decision_reason).toMatch(/^invalid escalation: .*Unrecognized keys?: /);
    // The fields are still named, so the agent can fix its request.
    expect(event!.data.errors.map((x) => x.path)).toContain('(root)');

    const answer = await eventually(async () => {
      const res = await fetch(`${h.baseUrl}/api/escalations/${e.id}`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      return res.status === 200 ? await res.text() : undefined;
    }, 'answer to the agent');
    for (const raw of RAW) expect(answer).not.toContain(raw);
  });

  it('is masked in the rejected event when the jobId itself carries it', async () => {
    const e = makeEscalation();
    const jobId = `refund for jane.doe@example.com ${randomUUID().slice(0, 8)}`;
    await h.enqueue(e, jobId);
    const masked = jobId.replace('jane.doe@example.com', 'j***@example.com');
    const [event] = await eventually(async () => {
      const rows = await h.sql<Rejected[]>`select escalation_id, data from events where type = 'rejected' and data->>'jobId' = ${masked}`;
      return rows.length > 0 ? rows : undefined;
    }, 'rejected event');
    expect(event!.escalation_id).toBeNull();
    const text = JSON.stringify(event!.data);
    expect(text).not.toContain('jane.doe@example.com');
    expect(event!.data.errors).toEqual([{ path: 'id', message: `must equal the BullMQ jobId (${masked})` }]);
  });

  it('is masked in the rejected event of an outcome report that fails validation', async () => {
    const outcomes = new Queue(OUTCOMES_QUEUE, { connection: { url: REDIS_URL }, prefix: h.prefix });
    try {
      const id = randomUUID();
      await outcomes.add('outcome', { id, version: 1, 'EMP-123456 jane.doe@example.com': true }, { jobId: id });
      const rows = await eventually(async () => {
        const r = await h.sql<Array<{ data: { queue: string; errors: Array<{ path: string; message: string }> } }>>`
          select data from events where type = 'rejected' and data->>'queue' = 'outcomes' and data::text like '%[employee]%'`;
        return r.length > 0 ? r : undefined;
      }, 'rejected outcome event');
      const text = JSON.stringify(rows[0]!.data);
      for (const raw of RAW) expect(text).not.toContain(raw);
      expect(text).toContain('[employee] j***@example.com');
    } finally {
      await outcomes.close();
    }
  });
});
