import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import { configSchema, type CountersignConfig } from '../domain/config.js';
import { ConfigError } from './env.js';

export interface LoadedConfig {
  config: CountersignConfig;
  /** sha256 of the file's bytes: the policy version recorded beside decisions. */
  version: string;
}

function place(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

/** Validates YAML text; each error names its place in the file, e.g. `routes[2].channel: Required`. */
export function parseConfig(text: string, source = 'config'): LoadedConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(`${source}: YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(doc.toJS() ?? {}, {
    error: (issue) => (issue.input === undefined && issue.code === 'invalid_type' ? 'Required' : undefined),
  });
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${place(i.path) || '(root)'}: ${i.message}`);
    throw new ConfigError(`${source}: ${lines.join('; ')}`);
  }
  return { config: result.data, version: createHash('sha256').update(text).digest('hex').slice(0, 16) };
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`COUNTERSIGN_CONFIG: cannot read ${path} (${code ?? String(err)})`);
  }
  return parseConfig(text, path);
}
