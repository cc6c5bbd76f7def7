/**
 * `npm run build`: compiles src/ to JavaScript with declarations
 * (tsconfig.build.json) and copies the files the code reads at run time beside
 * it, so that `node dist/src/main.js` and the built CLI need only dist/ and
 * node_modules. dist/ mirrors the checkout: dist/src/… for the code,
 * dist/drizzle for the migrations, dist/examples/countersign.yml for the
 * fallback config, so every `new URL('…', import.meta.url)` in src/ finds in
 * dist/ what it finds in the checkout (test/e2e/production-build.test.ts checks
 * each one).
 */
import { execFile } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What src/ reads from disk at run time, relative to the checkout (and so to the build). */
export const RUNTIME_FILES = ['drizzle', 'examples/countersign.yml', 'src/sandbox/public'];

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** Builds into `outDir` (default dist/), replacing whatever was there. */
export async function build(outDir = join(ROOT, 'dist')): Promise<void> {
  const out = resolve(outDir);
  rmSync(out, { recursive: true, force: true });
  await promisify(execFile)(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { cwd: ROOT }).catch((err: { stdout?: string; message: string }) => {
    throw new Error(`tsc failed:\n${err.stdout || err.message}`);
  });
  // drizzle/meta/*_snapshot.json are drizzle-kit's input for the next migration; the migrator reads only the journal and the SQL.
  const needed = (path: string) => !path.endsWith('_snapshot.json');
  for (const file of RUNTIME_FILES) cpSync(join(ROOT, file), join(out, file), { recursive: true, filter: needed });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = process.argv[2] ?? join(ROOT, 'dist');
  await build(outDir);
  process.stdout.write(`built ${outDir}\n`);
}
