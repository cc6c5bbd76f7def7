import { commandEnv, ConfigError, loadEnvFor } from '../config/env.js';
import { openDatabase } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';

/** `npm run db:migrate`: applies pending migrations (under the same advisory lock as start-up), as MIGRATE_DATABASE_URL's owner when set. */
try {
  const env = loadEnvFor(commandEnv.migrate, process.env);
  const database = await openDatabase({ url: env.DATABASE_URL, dataDir: env.COUNTERSIGN_DATA_DIR, max: 1 });
  await runMigrations(database, env.DATABASE_URL && (env.MIGRATE_DATABASE_URL ?? env.DATABASE_URL));
  await database.close();
  process.stdout.write(`migrations applied (${database.kind})\n`);
} catch (err) {
  process.stderr.write(`countersign: ${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(err instanceof ConfigError ? 78 : 1);
}
