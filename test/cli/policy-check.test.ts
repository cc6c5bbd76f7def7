import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function check(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('./bin/countersign', ['policy', 'check', file], { cwd: ROOT, env: { ...process.env, COUNTERSIGN_CONFIG: 'examples/countersign.yml' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('countersign policy check', () => {
  it('says which tier an action gets and which rule decided, exiting 1 for pending', async () => {
    const r = await check('examples/escalation.json');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('outcome: pending');
    expect(r.stdout).toContain('rule:    policy.agents[0].actions[3]');
    expect(r.stdout).toContain('trigger: low_confidence: confidence 0.62 is below 0.70');
    expect(r.stdout).toMatch(/policy: {2}[0-9a-f]{16}/);
  });

  it('names each invalid field and what was expected, with exit 65', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cs-policy-')), 'probe.json');
    writeFileSync(file, '{"agent":"support-agent"}');
    const r = await check(file);
    expect(r.code).toBe(65);
    expect(r.stderr).toBe(`countersign: ${file}: agent: Invalid input: expected object, received string; action: Required (expected object)\n`);
  });

  it('names a missing file or bad JSON with exit 65, and a bad usage with 64', async () => {
    expect((await check('no-such-file.json')).code).not.toBe(0);
    expect((await check('package.json')).code).toBe(65);
    await expect(run('./bin/countersign', ['policy'], { cwd: ROOT })).rejects.toMatchObject({ code: 64 });
  });
}, 60_000);
