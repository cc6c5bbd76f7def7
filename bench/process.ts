/**
 * What the benches that run the bot as deployed share (memory.ts, scale.ts,
 * deployed.ts): where the built bot is, and waiting for a child process to
 * go quiet between blocks. The processes themselves are started by
 * test/support/child-bot.ts's spawnBot.
 */
import { existsSync } from 'node:fs';
import { procCpuMs } from './cpu.js';
import { sleep } from './stats.js';

/** `dist/src/main.js` when `npm run build` has run: the bot as `npm run start:prod` runs it; else undefined (src/main.ts through tsx). */
export function deployedEntry(): string | undefined {
  const built = new URL('../dist/src/main.js', import.meta.url).pathname;
  return existsSync(built) ? built : undefined;
}

/** How the bot is run, for a bench's first line. */
export const describeEntry = (entry: string | undefined): string =>
  entry ? 'built JS (dist/src/main.js), NODE_ENV=production' : 'src/main.ts through tsx (run npm run build for the deployed figure)';

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
