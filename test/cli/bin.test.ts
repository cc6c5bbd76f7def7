/**
 * `bin/countersign` in a checkout (source through tsx), run through a symlink
 * in another folder, as `npm link` or node_modules/.bin would place it. The
 * build's own CLI is covered in test/e2e/production-build.test.ts.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, runProcess } from '../support/cli.js';

const TMP = mkdtempSync(join(tmpdir(), 'countersign-bin-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('bin/countersign', () => {
  it('runs through a symlink from another folder, finding the checkout it links to', async () => {
    const link = join(TMP, 'countersign');
    symlinkSync(CLI, link);
    const r = await runProcess(link, ['policy', 'check', join(ROOT, 'examples/escalation.json')], { cwd: TMP });
    expect(r.stdout).toContain('outcome: pending');
    expect(r.code).toBe(1); // EXIT.pending
    expect(r.stderr).toContain(join(ROOT, 'examples/countersign.yml'));
  });

  it('passes its arguments on: no arguments is a usage error (64)', async () => {
    const r = await runProcess(CLI, [], { cwd: TMP });
    expect(r.stderr).toMatch(/^usage: countersign policy check/);
    expect(r.code).toBe(64);
  });
});
