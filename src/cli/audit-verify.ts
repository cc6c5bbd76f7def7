import { commandEnv, loadEnvFor } from '../config/env.js';
import { loadConfigFile } from '../config/file.js';
import { cliConfigPath, EXIT, openExistingDatabase } from './common.js';
import { lastCheckpoint, verifyChain } from '../db/queries/audit-chain.js';
import { checkAnchors, type PostedAnchor } from '../domain/audit-anchor.js';
import { readAnchors } from '../slack/anchors.js';
import { WebClient } from '@slack/web-api';

export const AUDIT_VERIFY_USAGE = 'countersign audit verify [--anchors [--channel C…]]  (database: $DATABASE_URL, or the embedded one; anchors: $SLACK_BOT_TOKEN, audit.anchor.channel)';

/**
 * Walks the audit hash chain; exit 0 green, 3 broken (naming the first broken
 * record), 64 usage, 66 no Countersign database. With `--anchors`, also reads the chain heads the bot
 * posted to Slack and checks each against the recomputed chain: a superuser
 * who rewrote events and recomputed every later link is caught there.
 */
export async function auditVerify(args: string[]): Promise<number> {
  const withAnchors = args.includes('--anchors');
  const channelArg = args.includes('--channel') ? args[args.indexOf('--channel') + 1] : undefined;
  const unknown = args.filter((a, i) => a !== '--anchors' && a !== '--channel' && args[i - 1] !== '--channel');
  if (unknown.length > 0 || (args.includes('--channel') && !channelArg)) {
    process.stderr.write(`usage: ${AUDIT_VERIFY_USAGE}\n`);
    return EXIT.usage;
  }
  const env = loadEnvFor(commandEnv.auditVerify, process.env);
  let anchors: PostedAnchor[] = [];
  let channel: string | undefined;
  if (withAnchors) {
    channel = channelArg ?? (await loadConfigFile(cliConfigPath(env.COUNTERSIGN_CONFIG))).config.audit?.anchor?.channel;
    if (!channel) {
      process.stderr.write('countersign: --anchors needs audit.anchor.channel in the config, or --channel C…\n');
      return EXIT.usage;
    }
    if (!env.SLACK_BOT_TOKEN) {
      process.stderr.write('countersign: --anchors needs SLACK_BOT_TOKEN (channels:history or groups:history)\n');
      return EXIT.usage;
    }
    // The Web API client's own retries: a long history may meet conversations.history's rate limit (Tier 3), and waiting is fine here.
    anchors = await readAnchors(new WebClient(env.SLACK_BOT_TOKEN, { slackApiUrl: env.SLACK_API_URL }), channel);
  }
  const database = await openExistingDatabase(env);
  try {
    const started = performance.now();
    const r = await verifyChain(database.db, { collect: new Set(anchors.map((a) => a.eventId)) });
    const secs = (performance.now() - started) / 1000;
    if (r.kind === 'broken') {
      const what = { missing: 'the event was deleted', changed: 'the event was changed after it was sealed', unpruned: 'the retention checkpoint says it was pruned, but it is still there (a forged checkpoint)' }[r.reason];
      process.stdout.write(`audit chain BROKEN at event ${r.eventId}: ${what} (${r.checked} records before it verified)\n`);
      return EXIT.broken;
    }
    const pruned = r.prunedUpTo > 0 ? `, starting after the checkpoint at event ${r.prunedUpTo} (pruned by retention)` : '';
    process.stdout.write(`audit chain OK: ${r.checked} records in ${secs.toFixed(2)} s, head ${r.head.slice(0, 16)}…, ${r.unsealed} not sealed yet${pruned}\n`);
    if (!withAnchors) return 0;
    const checks = checkAnchors(anchors, (id) => r.collected.get(id), await lastCheckpoint(database.db));
    const bad = checks.find((c) => c.kind === 'mismatch' || c.kind === 'missing' || c.kind === 'inconsistent');
    if (bad?.kind === 'inconsistent') {
      process.stdout.write(`audit chain BROKEN at event ${bad.anchor.eventId}: the retention checkpoint claims to have pruned it, but it was anchored in ${channel} at ts ${bad.anchor.ts}, after the checkpoint's cutoff (a forged checkpoint hiding rewritten history)\n`);
      return EXIT.broken;
    }
    if (bad) {
      const what = bad.kind === 'mismatch' ? 'the recomputed chain differs from' : 'the chain no longer reaches';
      process.stdout.write(`audit chain BROKEN at event ${bad.anchor.eventId}: ${what} the anchor posted to ${channel} at ts ${bad.anchor.ts} (events up to it were rewritten or removed)\n`);
      return EXIT.broken;
    }
    const matched = checks.filter((c) => c.kind === 'match').length;
    const prunedAnchors = checks.length - matched;
    process.stdout.write(`anchors OK: ${matched} of ${checks.length} anchors in ${channel} match the chain${prunedAnchors ? ` (${prunedAnchors} lie before the retention checkpoint)` : ''}\n`);
    return 0;
  } finally {
    await database.close();
  }
}
