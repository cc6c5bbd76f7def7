import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDatabase } from '../support/services.js';

const READERS: [string, string[]][] = [
  ['audit verify', ['audit', 'verify']],
  ['audit search', ['audit', 'search', 'agent:support-agent']],
  ['explain', ['explain', '7d1f7a7e-4c1b-4f7e-9a55-2f4be0c6a111']],
];

let dir: string;
let empty: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cs-no-db-'));
  empty = await createTestDatabase();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await empty?.drop();
});

describe('a command that reads the Countersign database, where there is none', () => {
  it.each(READERS)('%s says there is no embedded database and how to make one, exits 66, and creates nothing', async (_name, args) => {
    const dataDir = join(dir, 'never-started');
    const r = await runCli(args, { env: { COUNTERSIGN_DATA_DIR: dataDir, COUNTERSIGN_CONFIG: 'examples/countersign.yml' } });
    expect(r.code).toBe(66);
    expect(r.stderr).toBe(
      `countersign: no Countersign database in ${dataDir}/pglite (DATABASE_URL is unset, so the embedded one under COUNTERSIGN_DATA_DIR is read). ` +
        'Start Countersign once (npm start migrates it) or run npm run db:migrate; or point DATABASE_URL at the Postgres your Countersign runs on.\n',
    );
    expect(r.stdout).toBe('');
    expect(existsSync(dataDir)).toBe(false);
  });

  it.each(READERS)('%s says a Postgres database without Countersign tables is none, without its password or raw SQL', async (_name, args) => {
    const url = new URL(empty.url);
    url.password = 'hunter2';
    const r = await runCli(args, { env: { DATABASE_URL: url.toString(), COUNTERSIGN_CONFIG: 'examples/countersign.yml' } });
    expect(r.code).toBe(66);
    expect(r.stderr).toBe(
      `countersign: no Countersign database at postgres://${url.host}${url.pathname}: it has no Countersign tables. ` +
        'Start Countersign once (npm start migrates it) or run npm run db:migrate; or point DATABASE_URL at the Postgres your Countersign runs on.\n',
    );
  });

  it('says in one line that a Postgres which does not answer cannot be read, with exit 70 and no raw SQL', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const r = await runCli(['audit', 'verify'], { env: { DATABASE_URL: `postgres://root@127.0.0.1:${port}/countersign` } });
    expect(r.code).toBe(70);
    expect(r.stderr).toBe(`countersign: cannot read the database at postgres://127.0.0.1:${port}/countersign: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });
}, 120_000);
