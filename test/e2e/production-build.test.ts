/**
 * The production build: `npm run build` compiles to dist/, and a deployment
 * runs `node dist/src/main.js` and the `countersign` command with no tsx and no
 * src/. This file builds once (the same build() as `npm run build`) into a temp
 * folder laid out as an installed package, package.json, bin/ and dist/, with
 * node_modules beside it, and runs that.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, ROOT } from '../../scripts/build.js';
import { startChildBotWorld, spawnBot, type ChildBot, type ChildBotWorld } from '../support/child-bot.js';
import { runProcess } from '../support/cli.js';
import { exampleConfigText, makeEscalation, REFUNDS_CHANNEL } from '../support/harness.js';
import { eventually } from '../support/services.js';

const TMP = mkdtempSync(join(tmpdir(), 'countersign-build-'));
const PKG = join(TMP, 'countersign');
const MAIN = join(PKG, 'dist/src/main.js');
let world: ChildBotWorld;
/** Each test starts a process; under load a start alone can take half a minute (ms). */
const PROCESS_TEST_MS = 120_000;

beforeAll(async () => {
  mkdirSync(PKG);
  copyFileSync(join(ROOT, 'package.json'), join(PKG, 'package.json'));
  cpSync(join(ROOT, 'bin'), join(PKG, 'bin'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(PKG, 'node_modules'));
  await build(join(PKG, 'dist'));
  world = await startChildBotWorld({ config: exampleConfigText });
}, 300_000);

afterAll(async () => {
  await world?.close();
  rmSync(TMP, { recursive: true, force: true });
});

/** The port from the bot's start line (pino JSON). */
function portOf(bot: ChildBot): number {
  const line = bot.output().split('\n').find((l) => l.includes('"countersign started"'));
  return (JSON.parse(line!) as { port: number }).port;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((f) => f.isFile() && f.name.endsWith('.js'))
    .map((f) => join(f.parentPath, f.name));
}

describe('the production build', () => {
  it('has, beside the built code, every file the code reads relative to itself', () => {
    const reads = jsFiles(join(PKG, 'dist/src')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/new URL\(['"]([^'"]+)['"], import\.meta\.url\)/g)].map((m) => ({ file, target: fileURLToPath(new URL(m[1]!, pathToFileURL(file))) })),
    );
    // The migrations, the example config and the sandbox page at least.
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads.filter((r) => !existsSync(r.target))).toEqual([]);
  });

  it("has what package.json's main, types and exports name", () => {
    const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8')) as { main: string; types: string; exports: Record<string, Record<string, string>> };
    const named = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((e) => Object.values(e))];
    expect(named.filter((p) => !existsSync(join(PKG, p)))).toEqual([]);
  });

  it('starts with node dist/src/main.js, migrates Postgres, answers /healthz, posts a card for a queued escalation and stops on SIGTERM', async () => {
    const bot = await world.bot(MAIN);
    const health = await fetch(`http://127.0.0.1:${portOf(bot)}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    const journal = JSON.parse(readFileSync(join(ROOT, 'drizzle/meta/_journal.json'), 'utf8')) as { entries: unknown[] };
    const [migrated] = await world.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(migrated!.n).toBe(journal.entries.length);

    const e = makeEscalation();
    await world.queue.add('escalation', e, { jobId: e.id });
    await eventually(async () => world.fake.messages(REFUNDS_CHANNEL).find((m) => m.metadata?.event_payload.escalation_id === e.id), 'the card in Slack', 30_000);

    bot.proc.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
  }, PROCESS_TEST_MS);

  it('serves the sandbox page and its assets from the build when it has no Slack credentials', async () => {
    const { SLACK_BOT_TOKEN: _t, SLACK_SIGNING_SECRET: _s, SLACK_API_URL: _u, ...env } = world.env;
    const bot = await spawnBot({ ...env, SANDBOX_SAMPLES: 'false' }, MAIN);
    try {
      const page = /"page":"([^"]+)"/.exec(bot.output())![1]!;
      for (const [path, type] of [['', 'text/html'], ['sandbox/app.css', 'text/css'], ['sandbox/app.js', 'javascript']] as const) {
        const res = await fetch(new URL(path, page));
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type'), path).toContain(type);
        expect((await res.text()).length, path).toBeGreaterThan(100);
      }
    } finally {
      bot.proc.kill('SIGTERM');
      await bot.exited;
    }
  }, PROCESS_TEST_MS);

  it('runs the countersign command from dist/ through a node_modules/.bin symlink, with the example config from the build', async () => {
    const binDir = join(TMP, 'node_modules/.bin');
    mkdirSync(binDir, { recursive: true });
    symlinkSync(join(PKG, 'bin/countersign'), join(binDir, 'countersign'));
    const r = await runProcess(join(binDir, 'countersign'), ['policy', 'check', join(ROOT, 'examples/escalation.json')], { cwd: TMP });
    expect(r.stdout).toContain('outcome: pending');
    expect(r.code).toBe(1); // EXIT.pending
    // The fallback config is the build's own copy: no src/ and no checkout involved.
    expect(r.stderr).toContain(join(PKG, 'dist/examples/countersign.yml'));
  }, PROCESS_TEST_MS);
});
