import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = fileURLToPath(new URL('../../bin/countersign', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of the machine running the tests, minus every variable Countersign reads, plus `env`. */
export function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|MIGRATE_DATABASE_URL|REDIS_URL|SLACK_|COUNTERSIGN_|API_TOKENS|CALLBACK_SIGNING_SECRET)/.test(k)));
  return { ...base, ...env };
}

/** Runs a script (`bin/countersign`, or a .ts file through tsx) as a person would, and returns its exit code and output. */
export async function runProcess(file: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const [cmd, argv] = file.endsWith('.ts') ? [process.execPath, ['--import', 'tsx', file, ...args]] : [file, args];
  try {
    const { stdout, stderr } = await run(cmd, argv, { cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env ?? {}) });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `countersign <args>`. */
export const runCli = (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) => runProcess(CLI, args, opts);
