/**
 * `npm run bench:authorize-deployed [-- --quick] [-- --no-build] [-- --cpu-prof] [-- --node-options=…] [-- --bot-env=K=V,…]`:
 * the HTTP authorize rows alone, with the bot as deployed (authorize-http-deployed.ts),
 * as `npm run bench` runs them. `--cpu-prof` writes the bot's CPU profile to `.bench-profiles/`.
 */
import { authorizeHttpRows } from './authorize-http.js';
import { authorizeHttpDeployed } from './authorize-http-deployed.js';
import { botEnvFlag, builtEntry, describeEntry, nodeOptionsFlag } from './process.js';
import { markdownTable, runBench } from './run.js';

const quick = process.argv.includes('--quick');
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

async function main(): Promise<void> {
  const entry = await builtEntry(log);
  log(describeEntry(entry));
  const profile = process.argv.includes('--cpu-prof') ? `--cpu-prof --cpu-prof-dir=${process.cwd()}/.bench-profiles` : '';
  const f = await authorizeHttpDeployed(entry, {
    rate: 100,
    count: quick ? 200 : 1000,
    concurrency: 50,
    jobs: quick ? 1000 : 5000,
    pool: 20,
    nodeOptions: [nodeOptionsFlag(), profile].join(' ').trim(),
    botEnv: botEnvFlag(),
  });
  process.stdout.write(`${markdownTable(authorizeHttpRows(f)).join('\n')}\n`);
}

runBench(main);
