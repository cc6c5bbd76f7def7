import { z } from 'zod';
import { ESCALATION_SCHEMA_VERSION, escalationSchema } from '../src/domain/escalation.js';

/** Where `npm run schema` writes the JSON Schema, relative to the repository root. */
export const ESCALATION_SCHEMA_PATH = 'schemas/escalation.schema.json';

/** Stable identifier of the schema; the version is part of it. */
export const ESCALATION_SCHEMA_ID = `urn:countersign:schema:escalation:v${ESCALATION_SCHEMA_VERSION}`;

/**
 * The job data an agent enqueues, as JSON Schema (draft 2020-12), generated
 * from the zod schema. `io: 'input'` describes what an agent may send, so
 * fields with a default (urgency, labels, toolVersions, params) are optional.
 * Deterministic: 2-space JSON with a trailing newline, so the committed file
 * can be compared byte for byte.
 */
export function renderEscalationSchema(): string {
  const generated = z.toJSONSchema(escalationSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  const doc = {
    $schema,
    $id: ESCALATION_SCHEMA_ID,
    title: `Countersign escalation (version ${ESCALATION_SCHEMA_VERSION})`,
    description:
      'Job data of the BullMQ queue `escalations` (prefix `countersign`); the jobId must equal `id`. Generated from src/domain/escalation.ts by `npm run schema`; do not edit.',
    ...rest,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
