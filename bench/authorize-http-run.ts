/**
 * The HTTP authorize rows on their own bot: `npx tsx bench/authorize-http-run.ts [--quick]`.
 */
import { authorizeHttpBench, authorizeHttpRows } from './authorize-http.js';
import { startBotBench } from './bot.js';
import { markdownTable, numberFlag, runBench } from './run.js';

const quick = process.argv.includes('--quick');

async function main(): Promise<void> {
  const bot = await startBotBench({ concurrency: numberFlag('concurrency', 50) });
  try {
    const f = await authorizeHttpBench(bot.h, { rate: 100, count: quick ? 200 : 1000, concurrency: 50, jobs: quick ? 1000 : 5000, pool: 20 });
    process.stdout.write(`${markdownTable(authorizeHttpRows(f)).join('\n')}\n`);
  } finally {
    await bot.close();
  }
}

runBench(main);
