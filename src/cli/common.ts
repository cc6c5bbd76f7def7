import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/env.js';
import { resolveConfigPath } from '../config/file.js';
import { openDatabase, type Database } from '../db/client.js';
import { hasCountersignTables } from '../db/migrate.js';
import { NoInputError } from '../errors.js';

/**
 * The CLI's exit codes (BSD sysexits where one fits). `policy check` uses 0–2
 * for its answer and `audit verify` 3 for a broken chain, so nothing else may
 * exit with those.
 */
export const EXIT = {
  allow: 0,
  pending: 1,
  deny: 2,
  broken: 3,
  usage: 64,
  badInput: 65,
  /** An input file, or the Countersign database, is not there. */
  noInput: 66,
  /** Anything unforeseen: a bug, or a database that does not answer. */
  internal: 70,
  config: 78,
} as const;

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/** A file's text; one that cannot be read is a NoInputError naming it and why. */
export async function readInputFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new NoInputError(`cannot read ${path}: ${FS_REASONS[code] ?? (err as Error).message}`);
  }
}

/** The config file `npm start` would read; falling back to the example is said on stderr. */
export function cliConfigPath(configured: string | undefined): string {
  return resolveConfigPath(configured, (path) =>
    process.stderr.write(`countersign: no ./countersign.yml: using the example config (${path}); copy it, or set COUNTERSIGN_CONFIG\n`),
  );
}

const HOW_TO_CREATE = 'Start Countersign once (npm start migrates it) or run npm run db:migrate; or point DATABASE_URL at the Postgres your Countersign runs on';

/** Where the database is, without a password. */
function placeOf(url: string | undefined, dataDir: string): string {
  if (!url) return `${dataDir}/pglite`;
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * Opens the Countersign database for reading: never creates an embedded one,
 * and refuses one without Countersign's tables, so an empty database is said
 * to be one instead of failing on raw SQL.
 */
export async function openExistingDatabase(env: { DATABASE_URL?: string; COUNTERSIGN_DATA_DIR: string }): Promise<Database> {
  let database: Database;
  try {
    database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.COUNTERSIGN_DATA_DIR, max: 2, create: false });
  } catch (err) {
    if (err instanceof NoInputError) throw new NoInputError(`${err.message}. ${HOW_TO_CREATE}.`);
    throw err;
  }
  const place = placeOf(env.DATABASE_URL, env.COUNTERSIGN_DATA_DIR);
  let migrated: boolean;
  try {
    migrated = await hasCountersignTables(database);
  } catch (err) {
    await database.close().catch(() => {});
    // The driver's own error (ECONNREFUSED, a bad password), not the query drizzle wraps around it.
    const cause = ((err as { cause?: unknown }).cause ?? err) as { code?: string; message?: string };
    throw new Error(`cannot read the database at ${place}: ${cause.message || cause.code || String(cause)}`);
  }
  if (!migrated) {
    await database.close();
    throw new NoInputError(`no Countersign database at ${place}: it has no Countersign tables. ${HOW_TO_CREATE}.`);
  }
  return database;
}

/** The exit code and the one line on stderr for an error a command let through. */
export function exitFor(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`countersign: ${err.message}\n`);
    return EXIT.config;
  }
  if (err instanceof NoInputError) {
    process.stderr.write(`countersign: ${err.message}\n`);
    return EXIT.noInput;
  }
  process.stderr.write(`countersign: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.internal;
}
