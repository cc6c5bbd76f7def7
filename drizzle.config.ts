import { defineConfig } from 'drizzle-kit';

// Only `generate` uses this; migrations are applied by src/db/migrate.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/*.ts',
  out: './drizzle',
});
