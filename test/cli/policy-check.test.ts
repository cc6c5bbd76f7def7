import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';

const EXAMPLE = join(ROOT, 'examples/escalation.json');
const check = (file: string, env: Record<string, string> = {}) => runCli(['policy', 'check', file], { env: { COUNTERSIGN_CONFIG: 'examples/countersign.yml', ...env } });

/** A directory with no countersign.yml, as a fresh checkout right after the Quick start. */
let fresh: string;
beforeAll(async () => {
  fresh = await mkdtemp(join(tmpdir(), 'cs-policy-check-'));
});
afterAll(async () => {
  await rm(fresh, { recursive: true, force: true });
});

describe('countersign policy check', () => {
  it('says which tier an action gets and which rule decided, exiting 1 for pending', async () => {
    const r = await check('examples/escalation.json');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('outcome: pending');
    expect(r.stdout).toContain('rule:    policy.agents[0].actions[3]');
    expect(r.stdout).toContain('trigger: low_confidence: confidence 0.62 is below 0.70');
    expect(r.stdout).toMatch(/policy: {2}[0-9a-f]{16}/);
  });

  it('reads the example config, as npm start does, when there is no ./countersign.yml and no COUNTERSIGN_CONFIG, and says so', async () => {
    const r = await runCli(['policy', 'check', EXAMPLE], { cwd: fresh });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('rule:    policy.agents[0].actions[3]');
    expect(r.stderr).toBe(`countersign: no ./countersign.yml: using the example config (${join(ROOT, 'examples/countersign.yml')}); copy it, or set COUNTERSIGN_CONFIG\n`);
  });

  it('exits 66 with one line naming a missing input file, never 1 (pending) or a raw ENOENT', async () => {
    const r = await check('no-such-file.json');
    expect(r.code).toBe(66);
    expect(r.stderr).toBe('countersign: cannot read no-such-file.json: no such file\n');
    expect(r.stdout).toBe('');
  });

  it('exits 78 naming a COUNTERSIGN_CONFIG that is not there: a config set on purpose is never replaced by the example', async () => {
    const r = await check('examples/escalation.json', { COUNTERSIGN_CONFIG: 'nowhere.yml' });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe('countersign: COUNTERSIGN_CONFIG: cannot read nowhere.yml (ENOENT)\n');
  });

  it('names each invalid field and what was expected, with exit 65', async () => {
    const file = join(fresh, 'probe.json');
    await writeFile(file, '{"agent":"support-agent"}');
    const r = await check(file);
    expect(r.code).toBe(65);
    expect(r.stderr).toBe(`countersign: ${file}: agent: Invalid input: expected object, received string; action: Required (expected object)\n`);
  });

  it('names bad JSON with exit 65, and a bad usage with 64', async () => {
    expect((await check('package.json')).code).toBe(65);
    expect((await runCli(['policy'])).code).toBe(64);
  });

  it('runs with Slack credentials half set for the bot, which it never uses', async () => {
    const r = await check('examples/escalation.json', { SLACK_BOT_TOKEN: 'xoxb-1', REDIS_URL: 'localhost:6379' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
  });
}, 60_000);
