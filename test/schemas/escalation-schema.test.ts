import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ESCALATION_SCHEMA_PATH, renderEscalationSchema } from '../../scripts/escalation-schema.js';
import { escalationSchema, parseEscalation } from '../../src/domain/escalation.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFile(fileURLToPath(new URL(path, root)), 'utf8');

describe('schemas/escalation.schema.json', () => {
  it('is up to date with src/domain/escalation.ts', async () => {
    const committed = await read(ESCALATION_SCHEMA_PATH).catch(() => '');
    const fresh = renderEscalationSchema();
    if (committed !== fresh) {
      expect.fail(`${ESCALATION_SCHEMA_PATH} is stale or missing: run npm run schema, then commit it`);
    }
  });

  it('renders deterministically, as 2-space JSON with a trailing newline', () => {
    const a = renderEscalationSchema();
    expect(renderEscalationSchema()).toBe(a);
    expect(a.endsWith('}\n')).toBe(true);
    const doc = JSON.parse(a) as Record<string, unknown>;
    expect(a).toBe(`${JSON.stringify(doc, null, 2)}\n`);
    expect(doc.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(doc.$id).toEqual(expect.any(String));
    expect(doc.title).toEqual(expect.any(String));
  });
});

describe('examples/escalation.json', () => {
  it('validates against the zod schema', async () => {
    const example: unknown = JSON.parse(await read('examples/escalation.json'));
    const parsed = parseEscalation(example);
    if (!parsed.ok) expect.fail(parsed.errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    expect(escalationSchema.safeParse(example).success).toBe(true);
  });

  it('validates against the committed JSON Schema, which rejects what zod rejects', async () => {
    const example = JSON.parse(await read('examples/escalation.json')) as Record<string, unknown>;
    const fromJson = z.fromJSONSchema(JSON.parse(await read(ESCALATION_SCHEMA_PATH)));
    expect(fromJson.safeParse(example).success).toBe(true);
    for (const bad of [
      { ...example, extra: true },
      { ...example, id: 'not-a-uuid' },
      { ...example, confidence: 1.5 },
      { ...example, urgency: 'whenever' },
      (({ handoff: _handoff, ...rest }) => rest)(example),
    ]) {
      expect(fromJson.safeParse(bad).success).toBe(false);
      expect(escalationSchema.safeParse(bad).success).toBe(false);
    }
  });
});
