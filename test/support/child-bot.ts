import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildBot {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Runs the real entry point (`src/main.ts`) in its own process, as `npm start` does. */
export async function spawnBot(env: Record<string, string>): Promise<ChildBot> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env, LOG_LEVEL: env.LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  // Ready once it logs its start line (pino JSON), or fail with its output.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bot did not start:\n${out}`)), 30_000);
    const check = () => {
      if (out.includes('countersign started')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`bot exited with ${code}:\n${out}`));
    });
  });
  return { proc, output: () => out, exited };
}
