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
import postgres from 'postgres';
import { launchChromium } from '../support/browser.js';
import { parse, stringify } from 'yaml';
import { exampleConfigText, makeEscalation } from '../support/harness.js';
import { Redis } from 'ioredis';
import { REDIS_URL, createTestDatabase, dropRedisPrefix, uniqueName } from '../support/services.js';

const WAIT = { timeout: 15_000 };
const PAYOPS = 'U0PAYOPS001';

/**
 * The example config, with U0PAYOPS001 on call for payments all year and the
 * payments-urgent route without its chain: an urgent payout DMs them at once
 * (the chain would wait five minutes for its DM step).
 */
function sandboxConfig(): string {
  const c = parse(exampleConfigText) as { schedules: Record<string, unknown>; routes: Array<Record<string, unknown>> };
  // One person in the rotation: on call on any date.
  c.schedules.payments = { layers: [{ name: 'main', rotation: { users: [PAYOPS], kind: 'custom', intervalHours: 8760, handoff: '00:00', timezone: 'UTC', start: '2026-01-01' } }] };
  delete c.routes.find((r) => r.name === 'payments-urgent')!.chain;
  return stringify(c);
}

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
    bot = await start(env, parseConfig(sandboxConfig(), 'test config'));
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

  it('shows a compact card: the stakes, then the buttons; Approve of an irreversible refund asks first, and Cancel sends nothing', async () => {
    await page.goto(`${bot.sandboxUrl}?user=U0APPROVER1&conv=C0REFUNDS1`);
    const e = makeEscalation();
    await client.submit(e);
    const c = card(e.id);
    await c.getByText('Refund $340.00 for order #4521').waitFor(WAIT);
    // One line of stakes right under the title, the buttons right under it, the rest below.
    const lead = c.locator('.b-header + .b-section');
    await lead.getByText('$340.00').waitFor(WAIT);
    expect(await lead.textContent()).toMatch(/irreversible · normal urgency · needs a human: .* · decide by /);
    expect(await c.locator('.b-header + .b-section + .b-actions').count()).toBe(1);

    await c.getByRole('button', { name: 'Approve' }).click();
    const dialog = page.locator('#confirm-layer .confirm-dialog');
    await dialog.getByText('Approve $340.00 payments.refund?').waitFor(WAIT);
    await dialog.getByText('cannot be undone').waitFor(WAIT);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', ...WAIT });
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    expect(await sql`select status from escalations where id = ${e.id}`).toEqual([{ status: 'pending' }]);
    await sql.end();

    await c.getByRole('button', { name: 'Approve' }).click();
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await c.getByText('Approved by @U0APPROVER1').waitFor(WAIT);
    // Decided: the decision buttons are gone; only Why? (the explanation) stays.
    expect(await c.getByRole('button').allTextContents()).toEqual(['Why?']);
    const decision = await client.waitForDecision(e.id, { timeoutMs: 10_000 });
    expect(decision).toMatchObject({ status: 'approved', proceed: true });
  });

  it('DMs the on-call person the stakes with a link and the buttons, and the DM says how it ended once they approve there', async () => {
    const base = makeEscalation();
    const e = makeEscalation({
      agent: { ...base.agent, id: 'billing-agent', name: 'Billing Agent' },
      issueType: 'payout',
      urgency: 'high',
      action: { type: 'payments.payout', params: { supplier: 'Northwind Logistics', amountUsd: 8200, currency: 'USD' }, reversible: false, summary: 'Pay Northwind Logistics $8,200' },
    });
    await page.goto(`${bot.sandboxUrl}?user=${PAYOPS}&conv=C0PAYMENTS`);
    await client.submit(e);
    await card(e.id).getByText('Pay Northwind Logistics $8,200').waitFor(WAIT);
    await page.getByRole('link', { name: 'Countersign ↔ you' }).click();
    const dm = page.locator('.msg').filter({ hasText: 'Pay Northwind Logistics $8,200' });
    await dm.getByText('waiting for your decision').waitFor(WAIT);
    await dm.getByText('$8,200.00').waitFor(WAIT);
    await dm.getByText('decide by', { exact: false }).waitFor(WAIT);
    expect(await dm.getByRole('link', { name: 'Open the card' }).getAttribute('href')).toContain('conv=C0PAYMENTS');

    await dm.getByRole('button', { name: 'Approve' }).click();
    const dialog = page.locator('#confirm-layer .confirm-dialog');
    await dialog.getByText('cannot be undone').waitFor(WAIT);
    await dialog.getByRole('button', { name: 'Approve' }).click();
    await dm.getByText(`Resolved: approved by @${PAYOPS}`).waitFor(WAIT);
    expect(await dm.getByRole('button').count()).toBe(0);
    expect(await dm.textContent()).not.toContain('decide by');
    await page.getByRole('link', { name: '# C0REFUNDS1' }).click();
    await page.locator('#user').selectOption('U0APPROVER1');
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
    await page.locator('#confirm-layer').getByRole('button', { name: 'Approve' }).click();
    const refusal = page.locator('.msg.ephemeral').filter({ hasText: 'You own this agent' });
    await refusal.waitFor(WAIT);
    await c.getByText('decide by', { exact: false }).waitFor(WAIT);
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

  it('shows the emoji shortcodes the bot writes as emoji', async () => {
    const base = makeEscalation();
    const e = makeEscalation({
      agent: { ...base.agent, id: 'billing-agent', name: 'Billing Agent' },
      issueType: 'payout',
      urgency: 'high',
      action: { type: 'payments.payout', params: { supplier: 'Contoso', amountUsd: 9100, currency: 'USD' }, reversible: false, summary: 'Pay Contoso $9,100' },
    });
    await page.getByRole('link', { name: '# C0PAYMENTS' }).click();
    await client.submit(e);
    await card(e.id).getByText('📟 On call for route', { exact: false }).waitFor(WAIT);
    expect(await page.locator('#pane').textContent()).not.toMatch(/:[a-z_]+:/);
  });

  it('shows each person only their own DM with the bot', async () => {
    const dms = page.locator('#conversations a[data-conv^="D"]');
    await page.locator('#user').selectOption(PAYOPS);
    await page.locator(`#conversations a[data-conv="D${PAYOPS.slice(1)}"]`).waitFor(WAIT);
    expect(await dms.allTextContents()).toEqual([expect.stringMatching(/^Countersign ↔ you\d*$/)]);
    await page.locator('#user').selectOption('U0APPROVER1');
    await page.locator('#conversations a[data-conv="D0APPROVER1"]').waitFor(WAIT);
    expect(await dms.evaluateAll((as) => as.map((a) => (a as HTMLElement).dataset.conv))).toEqual(['D0APPROVER1']);
  });

  it('wraps long unbroken words in messages, modals and the App Home instead of running off the right edge', async () => {
    const word = (n: number) => `${'W'.repeat(n)}`;
    const base = makeEscalation();
    const e = makeEscalation({
      action: { ...base.action, summary: `Refund ${word(240)}` },
      reasoning: `${word(600)} ${word(600)}`,
      trigger: { ...base.trigger, input: word(900) },
    });
    await page.getByRole('link', { name: '# C0REFUNDS1' }).click();
    await client.submit(e);
    const c = card(e.id);
    await c.getByRole('button', { name: 'Details' }).waitFor(WAIT);
    // scrollWidth past clientWidth: something inside runs past the right edge.
    const overflow = (selector: string) => page.locator(selector).evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(await overflow('#pane')).toBe(0);
    await c.getByRole('button', { name: 'Details' }).click();
    const details = page.locator('form.modal');
    await details.getByText('Escalation details').waitFor(WAIT);
    expect(await overflow('form.modal .modal-body')).toBe(0);
    expect(await overflow('body')).toBe(0);
    await details.getByRole('button', { name: 'Close' }).click();
    await details.waitFor({ state: 'detached', ...WAIT });
    await page.getByRole('link', { name: 'Countersign · App Home' }).click();
    await page.locator('#pane .home').getByText('WWWW', { exact: false }).first().waitFor(WAIT);
    expect(await overflow('#pane')).toBe(0);
    await page.getByRole('link', { name: '# C0REFUNDS1' }).click();
  });

  it('closes an open modal when the page is reloaded, as Slack does, and the page stays usable', async () => {
    const e = makeEscalation();
    await client.submit(e);
    const c = card(e.id);
    await c.getByRole('button', { name: 'Details' }).click();
    const details = page.locator('form.modal');
    await details.getByText('Escalation details').waitFor(WAIT);
    await page.reload();
    await c.getByRole('button', { name: 'Details' }).waitFor(WAIT);
    expect(await details.count()).toBe(0);
    const state = (await (await fetch(`${bot.sandboxUrl}sandbox/state?user=U0APPROVER1`)).json()) as { modal: unknown };
    expect(state.modal).toBeNull();
    // Still clickable, and Escape closes the modal it opens.
    await c.getByRole('button', { name: 'Details' }).click();
    await details.getByText('Escalation details').waitFor(WAIT);
    await page.keyboard.press('Escape');
    await details.waitFor({ state: 'detached', ...WAIT });
  });

  it('opening the page on the App Home sends app_home_opened, and shows the view the bot publishes', async () => {
    await page.goto(`${bot.sandboxUrl}?user=U0APPROVER2&conv=home`);
    await page.locator('#activity li').filter({ hasText: 'U0APPROVER2 opened the App Home → 200' }).waitFor(WAIT);
    await page.locator('#pane .home').getByText('Countersign').first().waitFor(WAIT);
    await page.reload();
    await page.locator('#activity li').filter({ hasText: 'U0APPROVER2 opened the App Home → 200' }).nth(1).waitFor(WAIT);
    await page.locator('#pane .home').waitFor(WAIT);
    expect(await page.locator('#pane').textContent()).not.toContain('has not published');
  });
});
