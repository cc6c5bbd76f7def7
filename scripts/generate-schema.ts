import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESCALATION_SCHEMA_PATH, renderEscalationSchema } from './escalation-schema.js';
import { OPENAPI_PATH, renderOpenApi } from '../src/http/openapi.js';

/**
 * `npm run schema`: regenerates schemas/escalation.schema.json and the HTTP
 * API's schemas/openapi.json from the zod schemas.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
for (const [path, text] of [
  [ESCALATION_SCHEMA_PATH, renderEscalationSchema()],
  [OPENAPI_PATH, renderOpenApi()],
] as const) {
  const target = resolve(root, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text, 'utf8');
  process.stdout.write(`wrote ${path}\n`);
}
