import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_TOKEN, APPROVER, REFUNDS_CHANNEL, SIGNING_SECRET, exampleConfigText, startHarness, type Harness } from '../support/harness.js';
import { postSigned, slashCommandBody } from '../support/slack-signing.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const config = `${exampleConfigText}
audit:
  redact:
    patterns:
      - { name: employee, regex: "EMP-\\\\d{6}" }
`;

let h: Harness;
let dir: string;
let configPath: string;
const id = randomUUID();
const AGENT = 'legacy-agent';

beforeAll(async () => {
  h = await startHarness({ config });
  dir = await mkdtemp(join(tmpdir(), 'cs-audit-redact-'));
  configPath = join(dir, 'countersign.yml');
  await writeFile(configPath, config);
  // Stored before redaction at intake existed (or under an older config): raw text only the way out can mask.
  await h.sql`insert into escalations (id, status, agent_id, action_type, execution_id, decided_by, decided_at, decision_reason, request, created_at)
    values (${id}, 'denied', ${AGENT}, 'hr.update', 'exec-legacy-1', ${APPROVER}, now(), 'EMP-123456 asked; mail jane.doe@example.com',
      ${h.sql.json({ agent: { id: AGENT }, action: { type: 'hr.update', params: { employee: 'EMP-123456' } } })}, '2026-03-10T10:00:00Z')`;
  await h.sql`insert into outcomes (id, escalation_id, execution_id, agent_id, action_type, step, success, error, cost_tokens, cost_usd_micros)
    values (${randomUUID()}, ${id}, 'exec-legacy-1', ${AGENT}, 'hr.update', 'hr.update', false, 'no record for EMP-654321', 10, 1000)`;
});
afterAll(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

const RAW = ['EMP-123456', 'EMP-654321', 'jane.doe@example.com'];
const expectMasked = (text: string) => {
  for (const raw of RAW) expect(text).not.toContain(raw);
  expect(text).toContain('[employee] asked; mail j***@example.com');
  expect(text).toContain('no record for [employee]');
};

const cli = (...args: string[]) =>
  exec('./bin/countersign', args, { cwd: ROOT, env: { ...process.env, DATABASE_URL: h.dbUrl, COUNTERSIGN_CONFIG: configPath } });

describe('audit search and export output masked with the config’s own patterns', () => {
  it('GET /api/audit and /api/audit/export mask a configured pattern in the decision reason and the outcome error', async () => {
    const headers = { authorization: `Bearer ${API_TOKEN}` };
    const page = await fetch(`${h.baseUrl}/api/audit?agent=${AGENT}`, { headers });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain(id);
    expectMasked(body);
    for (const format of ['jsonl', 'csv']) {
      const res = await fetch(`${h.baseUrl}/api/audit/export?from=2026-03-01&to=2026-03-31&agent=${AGENT}&format=${format}`, { headers });
      expect(res.status).toBe(200);
      expectMasked(await res.text());
    }
  });

  it('/countersign audit masks it in the ephemeral answer', async () => {
    const body = slashCommandBody({ command: '/countersign', text: `audit agent:${AGENT}`, userId: APPROVER, channelId: REFUNDS_CHANNEL, responseUrl: h.fake.responseUrl });
    expect((await postSigned(`${h.baseUrl}/slack/events`, SIGNING_SECRET, body)).status).toBe(200);
    const reply = await h.fake.waitFor((c) => c.method === 'response_url' && JSON.stringify(c.args).includes(id));
    const text = JSON.stringify(reply.args);
    for (const raw of RAW) expect(text).not.toContain(raw);
    // In Slack the mask's asterisks are escaped (look-alikes), so they cannot bold anything.
    expect(text).toContain('[employee] asked; mail j∗∗∗@example.com');
  });

  it('countersign audit search, export and explain mask it under $COUNTERSIGN_CONFIG', async () => {
    const search = await cli('audit', 'search', `agent:${AGENT}`, '--json');
    expect(search.stdout).toContain(id);
    expectMasked(search.stdout);
    const exported = await cli('audit', 'export', '--from', '2026-03-01', '--to', '2026-03-31', '--format', 'csv', `agent:${AGENT}`);
    expectMasked(exported.stdout);
    const explained = await cli('explain', id);
    expect(explained.stdout).toContain('Reason: [employee] asked; mail j***@example.com');
    expect(explained.stdout).toContain('Params: {"employee":"[employee]"}');
    expect(explained.stdout).toContain('error: no record for [employee]');
    for (const raw of RAW) expect(explained.stdout).not.toContain(raw);
  });
});
