import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REFERENCE_PATH, renderReference } from './reference.js';

/** `npm run docs:reference`: regenerates docs/reference.md from the zod schemas. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
await writeFile(resolve(root, REFERENCE_PATH), renderReference(), 'utf8');
process.stdout.write(`wrote ${REFERENCE_PATH}\n`);
