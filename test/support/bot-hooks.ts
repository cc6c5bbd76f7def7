import { afterAll, beforeAll } from 'vitest';
import { startCallbackServer } from './callback-server.js';
import { startHarness, type Harness } from './harness.js';

export type CallbackServer = Awaited<ReturnType<typeof startCallbackServer>>;

/**
 * For a test file: the real bot (harness) and an agent's callback endpoint,
 * started before its tests and closed after. `use` receives both.
 */
export function withBotAndCallbacks(use: (bot: { h: Harness; cb: CallbackServer }) => void, opts?: Parameters<typeof startHarness>[0]): void {
  let bot: { h: Harness; cb: CallbackServer } | undefined;
  beforeAll(async () => {
    bot = { h: await startHarness(opts), cb: await startCallbackServer() };
    use(bot);
  });
  afterAll(async () => {
    await bot?.h.close();
    await bot?.cb.close();
  });
}
