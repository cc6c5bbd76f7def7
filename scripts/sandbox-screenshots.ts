/**
 * `npm run sandbox:screenshots`: starts Countersign in sandbox mode (embedded
 * PGlite in a temp dir, the Redis at REDIS_URL or a local one), streams the
 * sample agents, drives the page in Chromium and writes docs/screenshots/*.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadEnv } from '../src/config/env.js';
import { loadConfigFile } from '../src/config/file.js';
import { start } from '../src/main.js';
import { runSampleAgents } from '../src/sandbox/samples.js';
import { launchChromium } from '../test/support/browser.js';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const WAIT = { timeout: 20_000 };
mkdirSync(OUT, { recursive: true });
const dataDir = mkdtempSync(join(tmpdir(), 'countersign-shots-'));
const prefix = `shots_${Date.now().toString(36)}`;
const env = loadEnv({ PORT: '0', COUNTERSIGN_DATA_DIR: dataDir, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', COUNTERSIGN_QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', SANDBOX_SAMPLES: 'false' });
const bot = await start(env, await loadConfigFile(fileURLToPath(new URL('../examples/countersign.yml', import.meta.url))));
const browser = await launchChromium({ width: 1280, height: 960 });
try {
  await runSampleAgents({ redisUrl: env.REDIS_URL, prefix, delayMs: 100, log: (l) => process.stdout.write(`${l}\n`) });
  const page = await browser.context.newPage();
  const shot = (name: string) => page.screenshot({ path: join(OUT, name) }).then(() => process.stdout.write(`wrote docs/screenshots/${name}\n`));
  await page.goto(`${bot.sandboxUrl}?user=U0APPROVER1&conv=C0REFUNDS1`);
  const refund = page.locator('.msg').filter({ hasText: 'Refund $340.00 for order #4521' });
  await refund.getByText('decide by', { exact: false }).waitFor(WAIT);
  await refund.scrollIntoViewIfNeeded();
  await page.locator('.pane').evaluate((el) => (el.scrollTop = 0));
  await shot('sandbox-card.png');

  // The refund is irreversible: Approve asks first.
  await refund.getByRole('button', { name: 'Approve' }).click();
  await page.locator('#confirm-layer .confirm-dialog').waitFor(WAIT);
  await shot('sandbox-confirm.png');
  await page.locator('#confirm-layer').getByRole('button', { name: 'Approve' }).click();
  await refund.getByText('Approved by').waitFor(WAIT);
  await refund.screenshot({ path: join(OUT, 'sandbox-approved.png') });
  process.stdout.write('wrote docs/screenshots/sandbox-approved.png\n');

  const big = page.locator('.msg').filter({ hasText: 'Refund $2,400.00 for order #3988' });
  await big.getByRole('button', { name: 'Deny…' }).click();
  await page.locator('form.modal textarea').fill('Enterprise refunds go through finance: open a finance ticket instead.');
  await shot('sandbox-deny-modal.png');
  await page.locator('form.modal').getByRole('button', { name: 'Deny' }).click();
  await big.getByText('Denied by').waitFor(WAIT);

  await page.locator('#command').fill('/countersign budget procurement-agent');
  await page.locator('#command').press('Enter');
  await page.locator('.msg.ephemeral').last().waitFor(WAIT);
  await page.locator('.msg.ephemeral').last().scrollIntoViewIfNeeded();
  await shot('sandbox-slash-command.png');

  await page.goto(`${bot.sandboxUrl}?user=U0APPROVER1&conv=C0GOVERN01`);
  await page.locator('.msg').filter({ hasText: 'Resume' }).first().waitFor(WAIT);
  await shot('sandbox-governance.png');
} finally {
  await browser.close();
  await bot.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
