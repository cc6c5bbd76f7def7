/**
 * What the benches that run the bot as deployed share (memory.ts, scale.ts,
 * deployed.ts, the authorize rows): where the built bot is, waiting for a
 * child process to go quiet between blocks, and the floors' servers in
 * processes of their own (spawnScript). The bot's processes themselves are
 * started by test/support/child-bot.ts's spawnBot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from '../scripts/build.js';
import { procCpuMs } from './cpu.js';
import { sleep } from './stats.js';

/**
 * A bench script (`./bare-server.ts`, `./raw-bull-worker.ts`) in a process of
 * its own, through tsx, with NODE_ENV=production and `env`; resolves once it
 * has printed its first line (its port, or `ready`), with that line.
 */
export async function spawnScript(script: string, env: Record<string, string> = {}): Promise<{ proc: ChildProcess; line: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url))], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { NODE_ENV: 'production', PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { proc, line: chunk.toString().trim() };
}

/** `dist/src/main.js` when `npm run build` has run: the bot as `npm run start:prod` runs it; else undefined (src/main.ts through tsx). */
export function deployedEntry(): string | undefined {
  const built = new URL('../dist/src/main.js', import.meta.url).pathname;
  return existsSync(built) ? built : undefined;
}

/** The node flags of package.json's start:prod (`node --flag… dist/src/main.js`): the deployed bot's. */
export function startProdFlags(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const words = (pkg.scripts['start:prod'] ?? '').split(/\s+/);
  return words.slice(1, words.findIndex((w) => w.endsWith('main.js'))).join(' ');
}

/**
 * start:prod's node flags as arguments before the entry (spawnBot's `nodeArgs`):
 * Node refuses some of them in NODE_OPTIONS (`--no-memory-reducer`, a V8 flag).
 */
export const deployedArgs = (): string[] => startProdFlags().split(/\s+/).filter(Boolean);

/**
 * The deployed bot's environment additions: NODE_ENV=production, and `extra`
 * flags (a bench's `--node-options=…`) as NODE_OPTIONS. start:prod's own flags
 * go on the command line (deployedArgs).
 */
export function deployedEnv(extra = ''): Record<string, string> {
  return { NODE_ENV: 'production', ...(extra ? { NODE_OPTIONS: extra } : {}) };
}

/** `--node-options="…"`: flags for the bot's node only, to measure a setting against the same yardstick. */
/** `--bot-env=K=V,K=V`: variables added to the bot's environment only (e.g. WORKER_CONCURRENCY=100), to compare a setting against the same yardstick. */
export function botEnvFlag(): Record<string, string> {
  const given = process.argv.slice(2).find((a) => a.startsWith('--bot-env='))?.slice('--bot-env='.length) ?? '';
  return Object.fromEntries(
    given
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

export const nodeOptionsFlag = (): string => process.argv.slice(2).find((a) => a.startsWith('--node-options='))?.slice('--node-options='.length) ?? '';

/** The built bot's entry, after `npm run build` unless the bench was given `--no-build`; throws without one. */
export async function builtEntry(log: (m: string) => void): Promise<string> {
  if (!process.argv.includes('--no-build')) {
    log('npm run build');
    await build();
  }
  const entry = deployedEntry();
  if (!entry) throw new Error('no dist/src/main.js: run npm run build');
  return entry;
}

/** How the bot is run, for a bench's first line. */
export const describeEntry = (entry: string | undefined): string =>
  entry ? `built JS (node ${deployedArgs().join(' ')} dist/src/main.js), NODE_ENV=production, NODE_OPTIONS="${deployedEnv(nodeOptionsFlag()).NODE_OPTIONS ?? ''}"` : 'src/main.ts through tsx (run npm run build for the deployed figure)';

/**
 * Waits until the processes together use under `share` of one core over a
 * `windowMs` window (one block's tail work, such as the audit chain's sealing,
 * must not land in the next block), or `limitMs` has passed.
 */
export async function untilQuiet(pids: number[], opts: { share?: number; windowMs?: number; limitMs?: number } = {}): Promise<void> {
  const { share = 0.05, windowMs = 1000, limitMs = 30_000 } = opts;
  const end = Date.now() + limitMs;
  const total = () => pids.reduce((s, p) => s + procCpuMs(p), 0);
  while (Date.now() < end) {
    const a = total();
    await sleep(windowMs);
    if (total() - a <= share * windowMs) return;
  }
}
