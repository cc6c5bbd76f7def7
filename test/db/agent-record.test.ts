import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentRecord, agentsByMode } from '../../src/db/queries/agent-record.js';
import { governanceFigures } from '../../src/db/queries/governance-report.js';
import { policySchema } from '../../src/domain/policy/schema.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

let db: MigratedDb;
beforeAll(async () => {
  db = await createMigratedDb();
});
afterAll(async () => {
  await db?.close();
});

type Esc = { status: string; action?: string; review?: string; code?: string; at?: Date };
async function escalation(agentId: string, e: Esc): Promise<string> {
  const id = randomUUID();
  await db.sql`insert into escalations (id, status, agent_id, action_type, review_state, decision_code, created_at)
    values (${id}, ${e.status}, ${agentId}, ${e.action ?? 'crm.read'}, ${e.review ?? 'none'}, ${e.code ?? null}, ${e.at ?? new Date('2026-06-15T12:00:00Z')})`;
  return id;
}
async function outcome(agentId: string, success: boolean, escalationId: string | null, action = 'crm.read') {
  await db.sql`insert into outcomes (id, escalation_id, execution_id, agent_id, action_type, step, success)
    values (${randomUUID()}, ${escalationId}, 'exec-1', ${agentId}, ${action}, ${action}, ${success})`;
}
async function sampleVerdict(agentId: string, escalationId: string, verdict: 'correct' | 'incorrect') {
  await db.sql`insert into review_sample_items (sample_id, escalation_id, position, agent_id, action_type, verdict)
    values (${randomUUID()}, ${escalationId}, 0, ${agentId}, 'crm.read', ${verdict})`;
}

describe('the per-agent record', () => {
  it('counts errors from every source, each action once, and leaves out expiries and budget refusals', async () => {
    const a = 'record-agent';
    await escalation(a, { status: 'allowed' });
    await escalation(a, { status: 'approved' });
    await escalation(a, { status: 'denied' }); // a denial
    await escalation(a, { status: 'denied', code: 'budget_paused' }); // not the agent's error, not an action
    await escalation(a, { status: 'expired' }); // nobody decided: not counted
    await escalation(a, { status: 'pending' }); // not decided yet
    await escalation(a, { status: 'allowed', review: 'wrong', action: 'tickets.create' }); // a supervised reversal
    const failed = await escalation(a, { status: 'allowed' });
    await outcome(a, true, failed);
    await outcome(a, false, failed); // a failure (a later retry's success does not undo it)
    const sampled = await escalation(a, { status: 'approved' });
    await sampleVerdict(a, sampled, 'incorrect'); // batch review
    const both = await escalation(a, { status: 'allowed', review: 'wrong' });
    await outcome(a, false, both); // reversed and failed: still one error
    await outcome(a, false, null, 'crm.export'); // a reported action without an escalation
    await outcome(a, true, null, 'crm.export');

    const r = await agentRecord(db.database.db, a);
    expect(r.total).toEqual({ actions: 9, errors: 6, denials: 1, reversals: 2, incorrect: 1, failures: 3 });
    expect(r.byAction).toEqual([
      { actionType: 'crm.read', actions: 6, errors: 4, denials: 1, reversals: 1, incorrect: 1, failures: 2 },
      { actionType: 'crm.export', actions: 2, errors: 1, denials: 0, reversals: 0, incorrect: 0, failures: 1 },
      { actionType: 'tickets.create', actions: 1, errors: 1, denials: 0, reversals: 1, incorrect: 0, failures: 0 },
    ]);
    expect((await agentRecord(db.database.db, a, { actionType: 'tickets.create' })).total).toMatchObject({ actions: 1, errors: 1 });
  });

  it('gives the monthly report the same actions and errors, reported actions without an escalation included', async () => {
    const a = 'record-agent';
    const record = (await agentRecord(db.database.db, a)).total;
    const month = (await governanceFigures(db.database.db, new Date('2026-01-01T00:00:00Z'), new Date('2100-01-01T00:00:00Z'), 'UTC')).find((f) => f.agentId === a);
    expect(month).toMatchObject({ actions: record.actions, errors: record.errors });
    expect(record).toMatchObject({ actions: 9, errors: 6 });
  });

  it('counts from a given moment (the last demotion)', async () => {
    const a = 'window-agent';
    await escalation(a, { status: 'denied', at: new Date('2026-01-01T00:00:00Z') });
    await escalation(a, { status: 'allowed', at: new Date('2026-03-01T00:00:00Z') });
    expect((await agentRecord(db.database.db, a, { since: new Date('2026-02-01T00:00:00Z') })).total).toMatchObject({ actions: 1, errors: 0 });
  });

  it('lists agents by mode with their error rates, strictest first', async () => {
    const policy = policySchema.parse({
      agents: [
        { id: 'record-agent', mode: 'exception_only' },
        { id: 'window-agent', mode: 'post_action' },
        { id: 'fresh-agent' },
      ],
    });
    await db.sql`insert into agent_modes (agent_id, scope, mode, reason, set_by) values ('window-agent', '*', 'exception_only', 'promotion accepted', 'U0APPROVER1')`;
    const list = await agentsByMode(db.database.db, policy);
    expect(list.map((x) => [x.agentId, x.mode, x.actions, x.errors, +x.errorRate.toFixed(2)])).toEqual([
      ['fresh-agent', 'pre_action', 0, 0, 0],
      ['record-agent', 'exception_only', 9, 6, 0.67],
      ['window-agent', 'exception_only', 2, 1, 0.5],
    ]);
    expect(list.find((x) => x.agentId === 'window-agent')?.source).toBe('agent_modes');
  });
});
