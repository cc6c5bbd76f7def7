import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { withBotAndCallbacks } from '../support/bot-hooks.js';
import { REFUNDS_CHANNEL, makeEscalation, type Harness } from '../support/harness.js';
import { GROUP, PRIMARY, chainConfig } from '../support/chain-config.js';
import { eventually } from '../support/services.js';

/** The chain config, with only a primary on call for `refunds`, and a first step that DMs the primary and asks for the secondary. */
function primaryOnly(): string {
  const config = parse(chainConfig()) as { routes: Array<Record<string, unknown>> };
  const refunds = config.routes.find((r) => r.name === 'refunds')!;
  Object.assign(refunds, { schedules: ['chain-primary'], chain: { name: 'no-secondary', steps: [{ targets: ['dm_primary', 'secondary'], waitMinutes: 30 }] } });
  return stringify(config);
}

let h: Harness;
withBotAndCallbacks((bot) => ({ h } = bot), { config: primaryOnly() });

describe('an escalation chain step with no secondary on call', () => {
  it('says a secondary is missing, not that nobody on call could be reached, after DMing the primary', async () => {
    const e = makeEscalation();
    await h.enqueue(e);
    const card = await h.card(e.id);
    await eventually(async () => (h.fake.messages(`D${PRIMARY.slice(1)}`).length ? true : undefined), 'the DM to the primary');
    const ping = await eventually(async () => h.fake.messages(REFUNDS_CHANNEL).find((m) => m.thread_ts === card.ts), 'the ping in the thread');
    const text = JSON.stringify(ping.blocks);
    expect(text).toContain(`:warning: No secondary is on call for route refunds (${PRIMARY} is the only one on call), so the route's approvers are pinged instead.`);
    expect(text).toContain(`<!subteam^${GROUP}>`);
    expect(text).not.toContain('could be reached');
  });
});
