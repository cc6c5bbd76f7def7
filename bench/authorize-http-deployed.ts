/**
 * The HTTP authorize rows (authorize-http.ts) with the bot as deployed: its
 * own process (built JS, NODE_ENV=production, info-level logs, start:prod's
 * node flags), and the floor's bare node:http server in a process of its own,
 * so that neither shares an event loop (or a garbage collector) with the
 * driver. Its own database, fake Slack and Redis prefix, removed at the end.
 * Used by `npm run bench` and `npm run bench:authorize-deployed`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startChildBotWorld, spawnBot } from '../test/support/child-bot.js';
import { API_TOKEN } from '../test/support/harness.js';
import { authorizeHttpBench, type AuthorizeHttpFigures } from './authorize-http.js';
import { benchConfigText } from './bot.js';
import { procCpuMs } from './cpu.js';
import { deployedEnv } from './process.js';

/** bench/bare-server.ts in a process of its own. */
async function startBareProcess() {
  const script = fileURLToPath(new URL('./bare-server.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { NODE_ENV: 'production', PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { proc, url: `http://127.0.0.1:${Number(chunk.toString().trim())}/api/authorize` };
}

/**
 * `entry`: the built bot (process.ts's builtEntry). `nodeOptions`: node flags
 * added after start:prod's (a bench's `--node-options=…`, `--cpu-prof`).
 */
export async function authorizeHttpDeployed(
  entry: string,
  opts: Parameters<typeof authorizeHttpBench>[1] & { nodeOptions?: string },
): Promise<AuthorizeHttpFigures> {
  const { nodeOptions, ...run } = opts;
  const world = await startChildBotWorld({ config: benchConfigText(), env: { API_TOKENS: API_TOKEN, WORKER_LOCK_MS: '30000' } });
  try {
    const bot = await spawnBot({ ...world.env, ...deployedEnv(nodeOptions ?? '') }, entry);
    try {
      const bare = await startBareProcess();
      try {
        return await authorizeHttpBench(
          {
            baseUrl: `http://127.0.0.1:${bot.port}`,
            dbUrl: world.db.url,
            sql: world.sql,
            bareUrl: bare.url,
            cpu: { authorize: () => procCpuMs(bot.proc.pid!), bareHttp: () => procCpuMs(bare.proc.pid!) },
          },
          run,
        );
      } finally {
        bare.proc.kill('SIGTERM');
      }
    } finally {
      // SIGTERM lets the bot finish and, with --cpu-prof, write its profile.
      bot.proc.kill('SIGTERM');
      await bot.exited;
    }
  } finally {
    await world.close();
  }
}
