import { z } from 'zod';
import { envFields } from '../src/config/env.js';
import { configSchema } from '../src/domain/config.js';
import { escalationSchema } from '../src/domain/escalation.js';
import { policySchema } from '../src/domain/policy/schema.js';

/** Where `npm run docs:reference` writes the reference, relative to the repository root. */
export const REFERENCE_PATH = 'docs/reference.md';

type Json = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, Json>;
  required?: string[];
  additionalProperties?: Json | boolean;
  propertyNames?: Json;
  items?: Json;
  anyOf?: Json[];
  oneOf?: Json[];
  allOf?: Json[];
  $ref?: string;
};

interface Row {
  key: string;
  type: string;
  default: string;
  range: string;
  meaning: string;
}

const code = (v: unknown) => (v === '' ? 'empty' : `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``);
const num = (n: number) => (Number.isInteger(n) && Math.abs(n) >= 10_000 ? n.toLocaleString('en-US') : String(n));
/** Pipes break a table cell. */
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s: Json): string {
  if (s.$ref) return 'condition';
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return s.enum.map(code).join(' | ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeOf).join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (s.type === 'object') {
    if (s.properties) return 'object';
    if (typeof s.additionalProperties === 'object') return `map of ${typeOf(s.additionalProperties)}`;
    return 'object';
  }
  if (s.type === 'string' && s.format === 'uri') return 'URL';
  if (s.type === 'string' && s.format === 'uuid') return 'UUID';
  if (s.type === 'string' && s.format === 'date-time') return 'ISO 8601 date-time';
  if (s.type === 'string' && s.format === 'date') return 'ISO 8601 date';
  if (Array.isArray(s.type)) return s.type.join(' or ');
  return s.type ?? 'any';
}

/** zod's `.int()` bounds an integer by the safe range; that is no range a person sets. */
const bound = (n: number | undefined) => (n === undefined || Math.abs(n) >= Number.MAX_SAFE_INTEGER ? undefined : n);

function rangeOf(raw: Json): string {
  const s = { ...raw, minimum: bound(raw.minimum), maximum: bound(raw.maximum) };
  const parts: string[] = [];
  const lo = s.minimum !== undefined ? `${num(s.minimum)}` : s.exclusiveMinimum !== undefined ? `> ${num(s.exclusiveMinimum)}` : undefined;
  const hi = s.maximum !== undefined ? `${num(s.maximum)}` : s.exclusiveMaximum !== undefined ? `< ${num(s.exclusiveMaximum)}` : undefined;
  if (s.minimum !== undefined && hi !== undefined && s.exclusiveMaximum === undefined) parts.push(`${lo}–${hi}`);
  else {
    if (lo !== undefined) parts.push(lo.startsWith('>') ? lo : `≥ ${lo}`);
    if (hi !== undefined) parts.push(hi.startsWith('<') ? hi : `≤ ${hi}`);
  }
  if (s.minLength !== undefined || s.maxLength !== undefined) {
    parts.push(s.maxLength === undefined ? `length ≥ ${num(s.minLength!)}` : s.minLength === undefined ? `length ≤ ${num(s.maxLength)}` : `length ${num(s.minLength)}–${num(s.maxLength)}`);
  }
  if (s.minItems !== undefined || s.maxItems !== undefined) {
    parts.push(s.maxItems === undefined ? `at least ${s.minItems}` : s.minItems === undefined ? `at most ${s.maxItems}` : `${s.minItems}–${s.maxItems} entries`);
  }
  // A format (URL, date, date-time) says more than the pattern zod writes for it.
  if (s.pattern && !s.format) parts.push(`matches ${code(s.pattern)}`);
  if (s.type === 'array' && s.items && !s.items.properties) {
    const inner = rangeOf(s.items);
    if (inner) parts.push(`each ${inner}`);
  }
  return parts.join(', ');
}

/** One row per key, depth first; objects and lists of objects add their own keys below them. */
function rows(s: Json, prefix: string, required: boolean, out: Row[], absent = '—'): Row[] {
  const def = s.default !== undefined ? code(s.default) : required ? 'required' : absent;
  const here = (type: string) => out.push({ key: prefix, type, default: def, range: rangeOf(s), meaning: s.description ?? '' });
  if (s.type === 'object' && s.properties) {
    if (prefix && s.description) here('object');
    for (const [k, v] of Object.entries(s.properties)) rows(v, prefix ? `${prefix}.${k}` : k, (s.required ?? []).includes(k), out);
    return out;
  }
  if (s.type === 'object' && typeof s.additionalProperties === 'object' && s.additionalProperties.properties) {
    here('map');
    rows(s.additionalProperties, `${prefix}.<name>`, true, out);
    return out;
  }
  if (s.type === 'array' && s.items?.properties) {
    here(`list of objects`);
    rows(s.items, `${prefix}[]`, true, out);
    return out;
  }
  here(typeOf(s));
  return out;
}

function table(title: string, what: string, rs: Row[]): string {
  const head = `| ${what} | Type | Default | Range | Meaning |\n|---|---|---|---|---|`;
  const body = rs.map((r) => `| \`${r.key}\` | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.range)} | ${cell(r.meaning)} |`).join('\n');
  return `${title}\n\n${head}\n${body}\n`;
}

const json = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;

/** The whole page. Deterministic, so the committed file can be compared byte for byte. */
export function renderReference(): string {
  // The environment as the code sees it (io: output: PORT is an integer, MIGRATE_ON_START a boolean),
  // else as it is written (a trimmed string has no JSON Schema on its output side). Nothing is required.
  const envIn = json(envFields, 'input').properties!;
  const envOut = json(envFields, 'output').properties!;
  const env = Object.entries(envOut).flatMap(([k, out]) => rows(typeOf(out) === 'any' ? { ...envIn[k]!, description: out.description ?? envIn[k]!.description } : out, k, false, [], 'unset'));
  const config = json(configSchema, 'input');
  const { policy: _policy, ...rest } = config.properties!;
  const configRows = rows({ ...config, properties: rest }, '', false, []);
  const policyRows = rows(json(policySchema, 'input'), 'policy', false, []);
  const job = rows(json(escalationSchema, 'input'), '', false, []);
  return [
    '# Reference',
    '',
    '<!-- Generated from the zod schemas by `npm run docs:reference` (scripts/reference.ts); do not edit. A test fails when it is stale. -->',
    '',
    'Every table here is generated from the zod schema that validates it, so the types, defaults and ranges are the ones the code enforces. *Required* means the key has no default and must be given (inside an object that is itself given). Ranges are inclusive unless marked `<` or `>`.',
    '',
    table(
      '## Environment variables\n\nFrom `src/config/env.ts`. Read once at start; a bad value stops the process with exit status 78 and one line naming the variable. An empty value counts as unset. Booleans accept `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`. Each command-line tool reads only its own variables ([command line](cli.md)).',
      'Variable',
      env,
    ),
    table(
      '## Config file\n\nFrom `src/domain/config.ts` (the `policy` section is below). Unknown keys are errors; each error names its place in the file. See [Configuration](configuration.md#config-file), [Routing and on-call](routing.md), [Review modes](review-modes.md) and [Audit trail](audit.md#config).',
      'Key',
      configRows,
    ),
    table(
      '## Policy\n\nThe `policy` section, from `src/domain/policy/schema.ts`. Without it, every action waits for a person. A `condition` is the declarative YAML of [Tiers and rules](policy.md#tiers-and-rules). See [Governance policy](policy.md) and [Review modes](review-modes.md).',
      'Key',
      policyRows,
    ),
    table(
      '## Escalation job data\n\nFrom `src/domain/escalation.ts`, version 1; also published as JSON Schema in [`schemas/escalation.schema.json`](../schemas/escalation.schema.json). Unknown top-level fields are rejected; unknown fields inside the nested objects are dropped. See [The agent contract](agent-contract.md#job-data).',
      'Field',
      job,
    ),
  ].join('\n');
}
