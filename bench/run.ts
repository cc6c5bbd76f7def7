import { closeClient } from './http-client.js';

/** `--name=N` from the command line as a number, or `fallback`. */
export function numberFlag(name: string, fallback: number): number {
  const given = process.argv.slice(2).find((a) => a.startsWith(`--${name}=`));
  return Number(given?.split('=')[1] ?? fallback);
}

export interface Row {
  metric: string;
  figure: string;
  goal: string;
  baseline: string;
  /** undefined: a figure without a goal (a baseline or a breakdown). */
  pass: boolean | undefined;
}

/** The markdown table every bench prints: each figure beside its goal and its baseline. */
export function markdownTable(rows: readonly Row[]): string[] {
  return [
    '| metric | figure | goal | baseline | pass/fail |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.metric} | ${r.figure} | ${r.goal} | ${r.baseline} | ${r.pass === undefined ? '—' : r.pass ? 'pass' : 'FAIL'} |`),
  ];
}

/** Runs a bench's main and exits: 0 when it finished, 1 (with the stack) when it failed. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => {
      closeClient();
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
