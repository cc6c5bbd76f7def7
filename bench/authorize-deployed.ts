/**
 * `npm run bench:authorize-deployed [-- --quick] [-- --no-build] [-- --cpu-prof]`:
 * the HTTP authorize rows (authorize-http.ts) with the bot as deployed, in
 * its own process (built JS, NODE_ENV=production, info-level logs, start:prod's
 * flags), and the bare node:http server of the floor in a process of its own,
 * so that neither shares an event loop with this driver. Same database kind,
 * same fake Slack and Redis as the other deployed benches. `--cpu-prof`
 * writes the bot's CPU profile to `.bench-profiles/`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startChildBotWorld, spawnBot } from '../test/support/child-bot.js';
import { API_TOKEN } from '../test/support/harness.js';
import { authorizeHttpBench, authorizeHttpRows } from './authorize-http.js';
import { benchConfigText } from './bot.js';
import { procCpuMs } from './cpu.js';
import { builtEntry, deployedEnv, describeEntry, nodeOptionsFlag } from './process.js';
import { markdownTable, runBench } from './run.js';

const quick = process.argv.includes('--quick');
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

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

async function main(): Promise<void> {
  const entry = await builtEntry(log);
  log(describeEntry(entry));
  const world = await startChildBotWorld({ config: benchConfigText(), env: { API_TOKENS: API_TOKEN, WORKER_LOCK_MS: '30000' } });
  const profile = process.argv.includes('--cpu-prof') ? `--cpu-prof --cpu-prof-dir=${process.cwd()}/.bench-profiles` : '';
  const bot = await spawnBot({ ...world.env, ...deployedEnv([nodeOptionsFlag(), profile].join(' ').trim()) }, entry);
  const bare = await startBareProcess();
  try {
    const f = await authorizeHttpBench(
      {
        baseUrl: `http://127.0.0.1:${bot.port}`,
        dbUrl: world.db.url,
        sql: world.sql,
        bareUrl: bare.url,
        cpu: { authorize: () => procCpuMs(bot.proc.pid!), bareHttp: () => procCpuMs(bare.proc.pid!) },
      },
      { rate: 100, count: quick ? 200 : 1000, concurrency: 50, jobs: quick ? 1000 : 5000, pool: 20 },
    );
    process.stdout.write(`${markdownTable(authorizeHttpRows(f)).join('\n')}\n`);
  } finally {
    bare.proc.kill('SIGTERM');
    // SIGTERM lets the bot finish and, with --cpu-prof, write its profile.
    bot.proc.kill('SIGTERM');
    await bot.exited;
    await world.close();
  }
}

runBench(main);
