import { loadConfigFile } from '../config/file.js';
import { redactorOf } from '../domain/audit-config.js';
import type { Redactor } from '../domain/redact.js';
import { cliConfigPath } from './common.js';

/**
 * The redactor the bot itself uses: the config file's `audit.redact` patterns and
 * fields on top of the built-in ones, so what the CLI prints is masked exactly as
 * the bot's cards and API are. The file is the one `npm start` reads
 * (`$COUNTERSIGN_CONFIG`, else `./countersign.yml`, else the example). A bad
 * file is a ConfigError (exit 78), never a silent fall back to fewer masks.
 */
export async function configRedactor(env: { COUNTERSIGN_CONFIG?: string }): Promise<Redactor> {
  const { config } = await loadConfigFile(cliConfigPath(env.COUNTERSIGN_CONFIG));
  return redactorOf(config.audit);
}
