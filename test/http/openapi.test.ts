import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OPENAPI_PATH, renderOpenApi } from '../../src/http/openapi.js';
import { API_TOKEN, makeEscalation, startHarness, type Harness } from '../support/harness.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFile(fileURLToPath(new URL(path, root)), 'utf8');

interface Doc {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref: string } }> }; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown> };
}

/** A component schema by its `$ref`, as a zod schema (z.fromJSONSchema). */
function schemaAt(doc: Doc, ref: string): z.ZodType {
  const name = /^#\/components\/schemas\/(\w+)$/.exec(ref)?.[1];
  if (!name || !doc.components.schemas[name]) throw new Error(`no component ${ref}`);
  return z.fromJSONSchema(doc.components.schemas[name] as Parameters<typeof z.fromJSONSchema>[0]);
}

let h: Harness;
let served: { status: number; text: string };
beforeAll(async () => {
  h = await startHarness();
  // No token: the description is public.
  const res = await fetch(`${h.baseUrl}/api/openapi.json`);
  served = { status: res.status, text: await res.text() };
});
afterAll(async () => {
  await h?.close();
});

describe('schemas/openapi.json', () => {
  it('is up to date with the zod schemas', async () => {
    const committed = await read(OPENAPI_PATH).catch(() => '');
    if (committed !== renderOpenApi()) expect.fail(`${OPENAPI_PATH} is stale or missing: run npm run schema, then commit it`);
  });

  it('is what GET /api/openapi.json serves, without a token', async () => {
    expect(served.status).toBe(200);
    expect(served.text).toBe(await read(OPENAPI_PATH));
  });
});

describe('the served OpenAPI document', () => {
  it('lists POST /api/authorize and GET /api/escalations/{id}, each answering 401 without a token', () => {
    const doc = JSON.parse(served.text) as Doc;
    expect(doc.paths['/api/authorize']?.post?.responses).toHaveProperty('202');
    expect(doc.paths['/api/authorize']?.post?.responses).toHaveProperty('401');
    expect(doc.paths['/api/escalations/{id}']?.get?.responses).toHaveProperty('401');
  });

  it("validates the example request as authorize's body, and rejects what the bot rejects", async () => {
    const doc = JSON.parse(served.text) as Doc;
    const body = schemaAt(doc, doc.paths['/api/authorize']!.post!.requestBody!.content['application/json']!.schema.$ref);
    const example = JSON.parse(await read('examples/escalation.json')) as Record<string, unknown>;
    expect(body.safeParse(example).success).toBe(true);
    for (const bad of [{ ...example, id: 'not-a-uuid' }, { ...example, confidence: 1.5 }, { ...example, extra: true }]) {
      expect(body.safeParse(bad).success).toBe(false);
    }
  });

  it('describes the answer the endpoint really gives', async () => {
    const doc = JSON.parse(served.text) as Doc;
    const answer = schemaAt(doc, '#/components/schemas/AuthorizeAnswer');
    const res = await fetch(`${h.baseUrl}/api/authorize`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(makeEscalation()),
    });
    const got: unknown = await res.json();
    const parsed = answer.safeParse(got);
    if (!parsed.success) expect.fail(JSON.stringify(parsed.error.issues));
  });
});
