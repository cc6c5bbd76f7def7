import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { start, type Running } from '../../src/main.js';
import { APPROVER, exampleConfigText, makeEscalation, startHarness, type Harness } from '../support/harness.js';
import { eventually } from '../support/services.js';
import { postSigned, slashCommandBody } from '../support/slack-signing.js';
import { SIGNING_SECRET } from '../support/harness.js';

/** A bot reading its config from a file, as in production, beside the harness's services. */
let h: Harness;
let bot: Running;
let dir: string;
let file: string;

/** Editors save by writing a new file and renaming it over the old one. */
function save(text: string): void {
  const tmp = join(dir, `.countersign.yml.${Date.now()}`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

beforeAll(async () => {
  h = await startHarness({ env: { COUNTERSIGN_ROLE: 'worker' } });
  dir = mkdtempSync(join(tmpdir(), 'countersign-reload-'));
  file = join(dir, 'countersign.yml');
  writeFileSync(file, exampleConfigText);
  bot = await start(loadEnv(h.envFor({ COUNTERSIGN_CONFIG: file, COUNTERSIGN_ROLE: 'web', MIGRATE_ON_START: 'false' })));
});
afterAll(async () => {
  await bot?.stop();
  await h?.close();
});

const policyCheck = async (json: string) => {
  await postSigned(
    `http://127.0.0.1:${bot.port}/slack/events`,
    SIGNING_SECRET,
    slashCommandBody({ command: '/countersign', text: `policy ${json}`, userId: APPROVER, channelId: 'C0REFUNDS1', responseUrl: h.fake.responseUrl }),
  );
  const marker = h.fake.calls.length;
  return h.fake.waitFor((c) => c.method === 'response_url' && h.fake.calls.indexOf(c) >= marker - 1 && String(c.args.text).includes('outcome:'));
};

describe('policy reload', () => {
  it('applies a valid new file without a restart, and records its version', async () => {
    const probe = '{"agent":{"id":"support-agent"},"action":{"type":"crm.read","params":{}}}';
    expect(String((await policyCheck(probe)).args.text)).toContain('outcome: allow');
    save(exampleConfigText.replace('- action: crm.read\n          tier: autonomous', '- action: crm.read\n          tier: restricted'));
    await eventually(async () => ((await h.sql`select 1 from events where type = 'config_reloaded'`).length ? true : undefined), 'config_reloaded event');
    h.fake.reset();
    expect(String((await policyCheck(probe)).args.text)).toContain('outcome: pending');
  });

  it('keeps the old policy when the new file is invalid, and raises an alert', async () => {
    save('routes:\n  - name: broken\n');
    const [ev] = await eventually(async () => {
      const rows = await h.sql`select data from events where type = 'config_reload_failed'`;
      return rows.length ? rows : undefined;
    }, 'config_reload_failed event');
    expect((ev!.data as { error: string }).error).toContain('routes[0].channel: Required');
    // The worker-only harness process posts the alert from the queue.
    const alert = await h.fake.waitFor((c) => c.method === 'chat.postMessage' && String(c.args.text).includes('reload refused'));
    expect(alert.args.channel).toBe('C0GOVERN01');
    h.fake.reset();
    // Still the previous (valid) policy: crm.read restricted.
    expect(String((await policyCheck('{"agent":{"id":"support-agent"},"action":{"type":"crm.read","params":{}}}')).args.text)).toContain('outcome: pending');
    // And the bot still works end to end.
    const e = makeEscalation();
    await h.enqueue(e);
    await h.card(e.id);
  });
});
