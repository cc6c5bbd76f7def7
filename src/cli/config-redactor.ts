import { existsSync } from 'node:fs';
import type { Env } from '../config/env.js';
import { loadConfigFile } from '../config/file.js';
import { redactorOf } from '../domain/audit-config.js';
import type { Redactor } from '../domain/redact.js';

/**
 * The redactor the bot itself uses: the config file's `audit.redact` patterns and
 * fields on top of the built-in ones, so what the CLI prints is masked exactly as
 * the bot's cards and API are. The file is `$COUNTERSIGN_CONFIG`, else
 * `./countersign.yml`; with neither, the built-in redactor. A bad file is a
 * ConfigError (exit 78), never a silent fall back to fewer masks.
 */
export async function configRedactor(env: Env): Promise<Redactor> {
  const path = env.COUNTERSIGN_CONFIG ?? (existsSync('./countersign.yml') ? './countersign.yml' : undefined);
  if (!path) return redactorOf(undefined);
  const { config } = await loadConfigFile(path);
  return redactorOf(config.audit);
}
