import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REFERENCE_PATH, renderReference } from '../../scripts/reference.js';
import { envFields } from '../../src/config/env.js';
import { escalationSchema } from '../../src/domain/escalation.js';
import { policySchema } from '../../src/domain/policy/schema.js';

const root = new URL('../../', import.meta.url);
const reference = renderReference();
/** The first cell of every table row: the documented keys. */
const keys = new Set([...reference.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));

describe('docs/reference.md', () => {
  it('is up to date with the zod schemas', async () => {
    const committed = await readFile(fileURLToPath(new URL(REFERENCE_PATH, root)), 'utf8').catch(() => '');
    if (committed !== reference) {
      expect.fail(`${REFERENCE_PATH} is stale or missing: run npm run docs:reference, then commit it`);
    }
  });

  it('lists every environment variable the code reads', () => {
    expect(Object.keys(envFields.shape).filter((k) => !keys.has(k))).toEqual([]);
  });

  it('lists every job-data field, conflictingInformation and step among them', () => {
    const fields = Object.keys(escalationSchema.shape);
    expect(fields).toEqual(expect.arrayContaining(['conflictingInformation', 'step']));
    expect(fields.filter((f) => ![...keys].some((k) => k === f || k.startsWith(`${f}.`)))).toEqual([]);
  });

  it('lists the policy.* keys with their defaults, e.g. the seed’s promotion bars', () => {
    expect(Object.keys(policySchema.shape).filter((k) => ![...keys].some((x) => x === `policy.${k}` || x.startsWith(`policy.${k}.`)))).toEqual([]);
    expect(reference).toContain('| `policy.promotion.post_action.minSuccesses` | integer | `100` | ≥ 1 |');
    expect(reference).toContain('| `policy.promotion.exception_only.maxErrorRate` | number | `0.01` | 0–1 |');
  });

  it('renders deterministically', () => {
    expect(renderReference()).toBe(reference);
  });
});
