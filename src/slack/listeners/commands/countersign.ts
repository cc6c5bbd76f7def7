import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../context.js';
import { SUBCOMMANDS, helpText } from '../../commands/index.js';
import { escapeMrkdwn, safeCode } from '../../../domain/slack-text.js';
import { replyOf } from '../../cards/limits.js';

/** `/countersign <sub> …`: dispatched to `src/slack/commands/`, answered ephemerally, to the caller only. */
export function registerCountersignCommand(app: App, deps: ListenerDeps): void {
  app.command('/countersign', async ({ ack, command, respond, logger }) => {
    await ack();
    const trimmed = command.text.trim();
    const name = trimmed.split(/\s+/, 1)[0] ?? '';
    const sub = SUBCOMMANDS.find((c) => c.name === name.toLowerCase());
    if (!sub) {
      // `help` and a bare `/countersign` ask for help; anything else is a typo, and is told so.
      const asked = name === '' || name.toLowerCase() === 'help';
      const text = asked ? helpText() : `There is no ${safeCode(`/countersign ${name}`, 80)} subcommand. The subcommands are ${SUBCOMMANDS.map((c) => `\`${c.name}\``).join(', ')} and \`help\`.\n\n${helpText()}`;
      return void (await respond({ response_type: 'ephemeral', ...replyOf(text) }));
    }
    const text = trimmed.slice(name.length).trim();
    try {
      const out = await sub.run({ deps, userId: command.user_id, channelId: command.channel_id, text, args: text ? text.split(/\s+/) : [] });
      await respond({ response_type: 'ephemeral', ...replyOf(out) });
    } catch (err) {
      logger.error(`/countersign ${sub.name} failed: ${(err as Error).message}`);
      await respond({ response_type: 'ephemeral', text: `Sorry, \`/countersign ${escapeMrkdwn(sub.name)}\` failed. The error is in the bot's log.` });
    }
  });
}
