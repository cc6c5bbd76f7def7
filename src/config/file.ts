import { readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { overridesFromIcal } from '../domain/schedule/ical.js';
import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import { configSchema, type CountersignConfig } from '../domain/config.js';
import { ConfigError } from './env.js';
import { describeErrors, fieldErrors, requiredMessage } from '../domain/validation.js';

export interface LoadedConfig {
  config: CountersignConfig;
  /** sha256 of the file's bytes: the policy version recorded beside decisions. */
  version: string;
}

/** iCal imports cover this window around load time; a reload (file change, SIGHUP) moves it on (ms). */
const ICAL_PAST_MS = 24 * 3_600_000;
const ICAL_AHEAD_MS = 180 * 24 * 3_600_000;

/** Each schedule's `ical` file (relative to `baseDir`) read now, its events appended as overrides; returns the files' texts. */
function importIcal(config: CountersignConfig, source: string, baseDir: string, now: Date): string[] {
  const texts: string[] = [];
  for (const [name, schedule] of Object.entries(config.schedules)) {
    if (!schedule.ical) continue;
    const place = `${source}: schedules.${name}.ical`;
    let text: string;
    try {
      text = readFileSync(resolve(baseDir, schedule.ical), 'utf8');
    } catch (err) {
      throw new ConfigError(`${place}: cannot read ${schedule.ical} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    try {
      const { overrides } = overridesFromIcal(text, { from: new Date(now.getTime() - ICAL_PAST_MS), until: new Date(now.getTime() + ICAL_AHEAD_MS) });
      schedule.overrides.push(...overrides);
      texts.push(text);
    } catch (err) {
      throw new ConfigError(`${place}: not a valid iCal file (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return texts;
}

/** Validates YAML text; each error names its place in the file, e.g. `routes[2].channel: Required`. */
export function parseConfig(text: string, source = 'config', opts: { baseDir?: string; now?: Date } = {}): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`${source}: YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(doc.toJS() ?? {}, { error: requiredMessage });
  if (!result.success) throw new ConfigError(`${source}: ${describeErrors(fieldErrors(result.error))}`);
  const icals = importIcal(result.data, source, opts.baseDir ?? process.cwd(), opts.now ?? new Date());
  // An imported rota is part of the config in force: a changed .ics is a new version (and a SIGHUP reloads it).
  const hash = createHash('sha256').update(text);
  for (const t of icals) hash.update(t);
  return { config: result.data, version: hash.digest('hex').slice(0, 16) };
}

/** The config file when COUNTERSIGN_CONFIG is unset. */
export const DEFAULT_CONFIG = './countersign.yml';
/** What runs when there is no ./countersign.yml: the sandbox's config. */
export const EXAMPLE_CONFIG = fileURLToPath(new URL('../../examples/countersign.yml', import.meta.url));

/**
 * Which config file to read, the same for `npm start` and the CLI:
 * COUNTERSIGN_CONFIG, else ./countersign.yml, else the example, which
 * `usingExample` is told about so that it can warn.
 */
export function resolveConfigPath(configured: string | undefined, usingExample: (path: string) => void): string {
  if (configured) return configured;
  if (existsSync(DEFAULT_CONFIG)) return DEFAULT_CONFIG;
  usingExample(EXAMPLE_CONFIG);
  return EXAMPLE_CONFIG;
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`COUNTERSIGN_CONFIG: cannot read ${path} (${code ?? String(err)})`);
  }
  return parseConfig(text, path, { baseDir: dirname(path) });
}
