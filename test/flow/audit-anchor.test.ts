import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/file.js';
import { sealChain } from '../../src/db/queries/audit-chain.js';
import { parseAnchor } from '../../src/domain/audit-anchor.js';
import { anchorChain } from '../../src/flow/audit-anchor.js';
import { createSlackPort, createWebClient } from '../../src/slack/web-port.js';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.js';
import { createMigratedDb, type MigratedDb } from '../support/migrated-db.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AUDIT_CHANNEL = 'C0AUDIT001';
const configText = `
routes:
  - name: default
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }
audit:
  anchor: { channel: ${AUDIT_CHANNEL}, everyMinutes: 60 }
`;

let db: MigratedDb;
let fake: FakeSlack;
let configFile: string;
/** The flow's clock: anchors are due by it alone, whatever the machine's or the database's clock says. */
let clock = Date.UTC(2026, 5, 15, 12);
let ports: Parameters<typeof anchorChain>[0];

async function addSealedEvents(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await db.sql`insert into events (type, actor, at, data) values ('received', 'system', now() - interval '1 minute', ${db.sql.json({ i })})`;
  await sealChain(db.database.db, { lagMs: 0 });
}

/** The bot token alone, as docs/audit.md tells `--anchors` users to set: no signing secret, which only the bot needs. */
const verify = (...args: string[]) =>
  run('./bin/countersign', ['audit', 'verify', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_API_URL: fake.url, COUNTERSIGN_CONFIG: configFile },
  }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout + e.stderr }),
  );

beforeAll(async () => {
  db = await createMigratedDb();
  fake = await startFakeSlack();
  configFile = join(mkdtempSync(join(tmpdir(), 'cs-anchor-')), 'countersign.yml');
  writeFileSync(configFile, configText);
  const loaded = parseConfig(configText, 'test');
  ports = {
    db: db.database.db,
    slack: createSlackPort(createWebClient({ token: 'xoxb-test', slackApiUrl: fake.url })),
    config: { current: () => loaded },
    now: () => new Date(clock),
  };
});
afterAll(async () => {
  await fake?.close();
  await db?.close();
});

describe('anchoring the chain head in Slack', () => {
  it('posts the head to the configured channel and records it, then waits everyMinutes and skips an unchanged head', async () => {
    expect(await anchorChain(ports)).toEqual({ kind: 'skipped', reason: 'empty' });
    await addSealedEvents(20);
    const [head] = await db.sql<{ event_id: string; hash: string }[]>`select event_id, hash from audit_chain order by event_id desc limit 1`;

    const first = await anchorChain(ports);
    expect(first).toMatchObject({ kind: 'posted', eventId: Number(head!.event_id), hash: head!.hash });
    const [message] = fake.messages(AUDIT_CHANNEL);
    expect(parseAnchor(message!.text)).toEqual({ eventId: Number(head!.event_id), hash: head!.hash, count: 20 });
    const [recorded] = await db.sql<{ data: Record<string, unknown> }[]>`select data from events where type = 'audit_anchored'`;
    expect(recorded!.data).toMatchObject({ channel: AUDIT_CHANNEL, ts: message!.ts, eventId: Number(head!.event_id), hash: head!.hash, anchoredAt: new Date(clock).toISOString() });

    expect(await anchorChain(ports)).toEqual({ kind: 'skipped', reason: 'not_due' });
    clock += 61 * 60_000;
    // The anchored event itself is sealed now, so the head moved: anchor again.
    await sealChain(db.database.db, { lagMs: 0 });
    expect(await anchorChain(ports)).toMatchObject({ kind: 'posted' });
    clock += 61 * 60_000;
    await addSealedEvents(10);
    expect(await anchorChain(ports)).toMatchObject({ kind: 'posted' });
    expect(fake.messages(AUDIT_CHANNEL)).toHaveLength(3);
  });

  it('verify --anchors reads the anchors back from Slack and finds them in the chain', async () => {
    const r = await verify('--anchors');
    expect(r.stdout).toContain('audit chain OK');
    expect(r.stdout).toContain(`anchors OK: 3 of 3 anchors in ${AUDIT_CHANNEL} match the chain`);
    expect(r.code).toBe(0);
  });

  it('catches a superuser who rewrote an event and recomputed every later link, which plain verify cannot', async () => {
    const anchored = fake.messages(AUDIT_CHANNEL).map((m) => parseAnchor(m.text)!.eventId);
    const [target] = await db.sql<{ id: string }[]>`select id from events order by id offset 4 limit 1`;
    await db.sql.unsafe('alter table events disable trigger events_append_only_rows');
    await db.sql.unsafe('alter table audit_chain disable trigger audit_chain_append_only_rows');
    await db.sql`update events set actor = 'mallory' where id = ${target!.id}`;
    await db.sql`delete from audit_chain where event_id >= ${target!.id}`;
    await db.sql.unsafe('alter table events enable always trigger events_append_only_rows');
    await db.sql.unsafe('alter table audit_chain enable always trigger audit_chain_append_only_rows');
    await sealChain(db.database.db, { lagMs: 0 });

    const plain = await verify();
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('audit chain OK');

    const r = await verify('--anchors');
    expect(r.code).toBe(3);
    expect(r.stdout).toContain(`audit chain BROKEN at event ${anchored[0]}: the recomputed chain differs from the anchor posted to ${AUDIT_CHANNEL}`);
  });

  it('catches a forged retention checkpoint that hides the rewritten history from the anchors', async () => {
    const [head] = await db.sql<{ event_id: string; hash: string }[]>`select event_id, hash from audit_chain order by event_id desc limit 1`;
    await db.sql.unsafe('alter table events disable trigger events_append_only_rows');
    await db.sql.unsafe('alter table audit_chain disable trigger audit_chain_append_only_rows');
    await db.sql`delete from audit_chain where event_id <= ${head!.event_id}`;
    await db.sql`delete from events where id <= ${head!.event_id}`;
    await db.sql.unsafe('alter table events enable always trigger events_append_only_rows');
    await db.sql.unsafe('alter table audit_chain enable always trigger audit_chain_append_only_rows');
    await db.sql`insert into audit_checkpoints (pruned_up_to_event_id, hash, cutoff, deleted, by)
      values (${head!.event_id}, ${head!.hash}, now() - interval '40 days', '{}', 'system:retention')`;

    expect((await verify()).code).toBe(0);
    const r = await verify('--anchors');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/BROKEN at event \d+: the retention checkpoint claims to have pruned it, but it was anchored in C0AUDIT001 at ts [\d.]+, after the checkpoint's cutoff/);
  });

  it('needs a channel for --anchors', async () => {
    writeFileSync(configFile, configText.replace(/audit:[\s\S]*$/, ''));
    const r = await verify('--anchors');
    expect(r.code).toBe(64);
    expect(r.stdout).toContain('--anchors needs audit.anchor.channel');
    writeFileSync(configFile, configText);
  });
}, 60_000);
