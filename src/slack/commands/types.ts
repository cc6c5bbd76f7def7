import type { SlackMessage } from '../../flow/ports.js';
import type { ListenerDeps } from '../listeners/context.js';

/** What a `/countersign <name> …` handler gets: the caller, the words after the name, and the ports. */
export interface SubcommandInput {
  deps: ListenerDeps;
  /** Slack user id of the caller. */
  userId: string;
  channelId: string;
  /** The text after the subcommand's name, trimmed. */
  text: string;
  /** `text` split on whitespace. */
  args: string[];
}

/**
 * One `/countersign` subcommand, in its own file under `src/slack/commands/`,
 * listed once in `index.ts`. Answers are ephemeral (the caller alone).
 */
export interface Subcommand {
  name: string;
  /** One help line, mrkdwn, e.g. "`/countersign budget [agent]`: spend against each cap". */
  help: string;
  /** The reply: plain mrkdwn text, or blocks (with text as the fallback). */
  run(input: SubcommandInput): Promise<string | SlackMessage>;
}
