/**
 * The sandbox in a real browser: `start()` with no Slack credentials runs the
 * bot against the local Slack stand-in, and Chromium plays the approver on
 * its page. Clicks and modal submissions reach the bot as signed requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CountersignClient } from '../../src/client/index.js';
import { loadEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/file.js';
import { start, type Running } from '../../src/main.js';
import { launchChromium } from '../support/browser.js';
import { exampleConfigText, makeEscalation } from '../support/harness.js';
import { Redis } from 'ioredis';
import { REDIS_URL, createTestDatabase, dropRedisPrefix, uniqueName } from '../support/services.js';

const WAIT = { timeout: 15_000 };

describe('sandbox page in Chromium', () => {
  let bot: Running;
  let client: CountersignClient;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let page: Page;
  const dialogs: string[] = [];
  const prefix = uniqueName('cst');

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = loadEnv({
      DATABASE_URL: database.url, REDIS_URL, PORT: '0', COUNTERSIGN_QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'silent', WORKER_LOCK_MS: '10000', SANDBOX_SAMPLES: 'false',
    });
    bot = await start(env, parseConfig(exampleConfigText, 'test config'));
    client = new CountersignClient({ redisUrl: REDIS_URL, prefix });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('dialog', (d) => void (dialogs.push(d.message()), d.dismiss()));
  });

  afterAll(async () => {
    await browser?.close();
    await client?.close();
    await bot?.stop();
    const redis = new Redis(REDIS_URL);
    await dropRedisPrefix(redis, prefix);
    redis.disconnect();
    await database?.drop();
  });

  const card = (id: string) => page.locator('.msg').filter({ hasText: id });

  it('is served by the sandbox when start() has no Slack credentials', () => {
    expect(bot.sandboxUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('shows a card, and Approve updates it in place', async () => {
    await page.goto(`${bot.sandboxUrl}?user=U0APPROVER1&conv=C0REFUNDS1`);
    const e = makeEscalation();
    await client.submit(e);
    const c = card(e.id);
    await c.getByText('Refund $340.00 for order #4521').waitFor(WAIT);
    await c.getByText('Awaiting your decision').waitFor(WAIT);
    await c.getByRole('button', { name: 'Approve' }).click();
    await c.getByText('Approved by @U0APPROVER1').waitFor(WAIT);
    // Decided: the decision buttons are gone; only Why? (the explanation) stays.
    expect(await c.getByRole('button').allTextContents()).toEqual(['Why?']);
    const decision = await client.waitForDecision(e.id, { timeoutMs: 10_000 });
    expect(decision).toMatchObject({ status: 'approved', proceed: true });
  });

  it('denies with a reason through the modal, after the modal refuses a too-short one', async () => {
    const e = makeEscalation({ action: { ...makeEscalation().action, summary: 'Refund $340.00 for order #4522' } });
    await client.submit(e);
    const c = card(e.id);
    await c.getByRole('button', { name: 'Deny…' }).click();
    const modal = page.locator('form.modal');
    await modal.getByText('Deny request').waitFor(WAIT);
    await modal.locator('textarea').fill('no');
    await modal.getByRole('button', { name: 'Deny' }).click();
    await modal.getByText('at least 3 characters').waitFor(WAIT);
    await modal.locator('textarea').fill('Outside the return window: offer store credit instead.');
    await modal.getByRole('button', { name: 'Deny' }).click();
    await modal.waitFor({ state: 'detached', ...WAIT });
    await c.getByText('Denied by @U0APPROVER1').waitFor(WAIT);
    await c.getByText('offer store credit instead').waitFor(WAIT);
    const decision = await client.waitForDecision(e.id, { timeoutMs: 10_000 });
    expect(decision).toMatchObject({ status: 'denied', decision: { reason: 'Outside the return window: offer store credit instead.' } });
  });

  it("refuses the agent owner's click with an ephemeral only they see; Details opens the full context", async () => {
    const e = makeEscalation();
    await client.submit(e);
    await page.locator('#user').selectOption('U0AGENTOWNR');
    const c = card(e.id);
    await c.getByRole('button', { name: 'Approve' }).click();
    const refusal = page.locator('.msg.ephemeral').filter({ hasText: 'You own this agent' });
    await refusal.waitFor(WAIT);
    await c.getByText('Awaiting your decision').waitFor(WAIT);
    await page.locator('#user').selectOption('U0APPROVER1');
    await refusal.waitFor({ state: 'detached', ...WAIT });
    await c.getByRole('button', { name: 'Details' }).click();
    const details = page.locator('form.modal');
    await details.getByText('Escalation details').waitFor(WAIT);
    await details.getByText('my blender stopped working').waitFor(WAIT);
    await details.getByRole('button', { name: 'Close' }).click();
    await details.waitFor({ state: 'detached', ...WAIT });
  });

  it('answers /countersign help and budget ephemerally in the slash-command box', async () => {
    await page.locator('#command').fill('/countersign help');
    await page.locator('#command').press('Enter');
    await page.locator('.msg.ephemeral').filter({ hasText: '/countersign status <escalation id>' }).waitFor(WAIT);
    await page.locator('#command').fill('/countersign budget support-agent');
    await page.locator('#command').press('Enter');
    await page.locator('.msg.ephemeral').filter({ hasText: 'support-agent' }).last().waitFor(WAIT);
  });

  it('opens the App Home: Slack sends app_home_opened, and the bot acknowledges it', async () => {
    await page.getByRole('link', { name: 'Countersign · App Home' }).click();
    await page.locator('#title').getByText('App Home').waitFor(WAIT);
    await page.locator('#activity li').filter({ hasText: 'U0APPROVER1 opened the App Home → 200' }).waitFor(WAIT);
    await page.getByRole('link', { name: '# C0REFUNDS1' }).click();
    await page.locator('#title').getByText('C0REFUNDS1').waitFor(WAIT);
  });

  it('renders agent text as text: no markup, no script, no forged mention', async () => {
    const base = makeEscalation();
    const e = makeEscalation({
      action: { ...base.action, summary: '<img src=x onerror=alert(1)> <!channel> refund' },
      reasoning: '<script>alert(2)</script> <@U0APPROVER1> <https://evil.example|bank> *bold*',
    });
    await client.submit(e);
    const c = card(e.id);
    await c.getByText('‹img src=x onerror=alert(1)› ‹!channel› refund').waitFor(WAIT);
    await c.getByText('<script>alert(2)</script> <@U0APPROVER1>', { exact: false }).waitFor(WAIT);
    expect(await page.locator('.pane img, .pane script, .pane a[href*="evil"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });
});
