import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../src/config/env.js';
import { start, type Running } from '../../src/main.js';
import { APPROVER, APPROVER_2, GENERAL_CHANNEL, OWNER, SIGNING_SECRET, startHarness, type Harness } from '../support/harness.js';
import type { StoredMessage } from '../support/fake-slack.js';
import { QUORUM_RULE, approve, approveHearing, blocksText, makeTransfer, quorumConfig, quorumRow } from '../support/quorum.js';
import { blockActionsBody, blockActionsPayload, postSigned } from '../support/slack-signing.js';
import { eventually } from '../support/services.js';

describe('quorum from distinct user groups', () => {
  it('counts one approval per group, refuses a second from the same group, and is approved once each group approved', async () => {
    const FIN = ['U0FINANCE1', 'U0FINANCE2'];
    const RISK = 'U0RISKONE1';
    const cfg = quorumConfig
      .replace(`users: [U0APPROVER1, U0APPROVER2, ${OWNER}`, `users: [U0APPROVER1, U0APPROVER2, ${OWNER}, ${FIN.join(', ')}, ${RISK}`)
      .replace(QUORUM_RULE, `${QUORUM_RULE}\n              distinctGroups: [S0FINANCE1, S0RISK0001]`);
    expect(cfg).toContain('distinctGroups: [S0FINANCE1, S0RISK0001]');
    const g = await startHarness({ config: cfg });
    try {
      g.fake.setUsergroup('S0FINANCE1', FIN);
      g.fake.setUsergroup('S0RISK0001', [RISK]);
      const e = makeTransfer(25_000);
      await g.enqueue(e);
      const card = await g.card(e.id);
      expect(blocksText(card)).toContain('each from a member of a different one of <!subteam^S0FINANCE1>, <!subteam^S0RISK0001>');

      await approveHearing(g, FIN[0]!, card, /recorded: 1 of 2/);
      expect(await approveHearing(g, FIN[1]!, card, /would not count/)).toContain('<!subteam^S0RISK0001>');
      // Not in either group: an approver of the route, but no approval the quorum can use.
      await approveHearing(g, APPROVER, card, /would not count/);
      expect(await quorumRow(g, e.id)).toMatchObject({ status: 'pending', approvals: [{ user: FIN[0] }] });

      await approve(g, RISK, card);
      await eventually(async () => ((await quorumRow(g, e.id)).status === 'approved' ? true : undefined), 'approved');
      const [made] = await g.sql<Array<{ data: Record<string, unknown> }>>`select data from events where escalation_id = ${e.id} and type = 'decision_made'`;
      expect(made!.data.approvers).toEqual([FIN[0], RISK]);
      const final = await g.fake.waitFor((c) => c.method === 'chat.update' && c.args.ts === card.ts && blocksText(c).includes('*Approved*'));
      expect(blocksText(final)).toContain(`<@${FIN[0]}> (<!subteam^S0FINANCE1>), <@${RISK}> (<!subteam^S0RISK0001>) (2 of 2)`);
    } finally {
      await g.close();
    }
  });
});

describe('quorum across a policy reload', () => {
  let w: Harness;
  let web: Running;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    w = await startHarness({ config: quorumConfig, env: { COUNTERSIGN_ROLE: 'worker' } });
    dir = mkdtempSync(join(tmpdir(), 'countersign-quorum-'));
    file = join(dir, 'countersign.yml');
    writeFileSync(file, quorumConfig);
    web = await start(loadEnv(w.envFor({ COUNTERSIGN_CONFIG: file, COUNTERSIGN_ROLE: 'web', MIGRATE_ON_START: 'false' })));
  });
  afterAll(async () => {
    await web?.stop();
    await w?.close();
  });
  const clickOnWeb = (user: string, card: StoredMessage) => {
    const button = (card.blocks as Array<{ elements?: Array<{ action_id: string; value: string }> }>).flatMap((b) => b.elements ?? []).find((x) => x.action_id === 'countersign.approve')!;
    const body = blockActionsBody(blockActionsPayload({ userId: user, channel: GENERAL_CHANNEL, messageTs: card.ts, actionId: 'countersign.approve', value: button.value }));
    return postSigned(`http://127.0.0.1:${web.port}/slack/events`, SIGNING_SECRET, body);
  };

  it('keeps the bar a pending escalation was stored with when the policy changes between votes', async () => {
    const e = makeTransfer(25_000);
    await w.enqueue(e);
    const card = await w.card(e.id);
    await clickOnWeb(APPROVER, card);
    await w.fake.waitFor((c) => c.method === 'chat.postEphemeral' && c.args.user === APPROVER && /recorded: 1 of 2/.test(String(c.args.text)));

    // Three approvals from now on: the file is saved as editors do, and the web bot reloads it.
    const tmp = join(dir, '.countersign.yml.new');
    writeFileSync(tmp, quorumConfig.replace(QUORUM_RULE, QUORUM_RULE.replace('approvals: 2', 'approvals: 3')));
    renameSync(tmp, file);
    await eventually(async () => ((await w.sql`select 1 from events where type = 'config_reloaded'`).length ? true : undefined), 'config_reloaded event');

    await clickOnWeb(APPROVER_2, card);
    await eventually(async () => ((await quorumRow(w, e.id)).status === 'approved' ? true : undefined), 'approved by the second vote');
    expect(await quorumRow(w, e.id)).toMatchObject({ approvals_required: 2, decided_by: APPROVER_2 });
  });
});
