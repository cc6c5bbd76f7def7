import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESCALATION_SCHEMA_PATH, renderEscalationSchema } from './escalation-schema.js';

/** `npm run schema`: regenerates schemas/escalation.schema.json from the zod schema. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = resolve(root, ESCALATION_SCHEMA_PATH);
await mkdir(dirname(target), { recursive: true });
await writeFile(target, renderEscalationSchema(), 'utf8');
process.stdout.write(`wrote ${ESCALATION_SCHEMA_PATH}\n`);
