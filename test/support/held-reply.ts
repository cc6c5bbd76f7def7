import type { FakeCall, FakeSlack } from './fake-slack.js';

/**
 * The moment between a post and its record: Slack shows the matching
 * message at once, but the bot's call gets its reply (the ts it records)
 * only at `release()`. `stop()` releases and removes the hook.
 */
export function holdReply(fake: FakeSlack, method: string, matches: (call: FakeCall) => boolean): { release(): void; stop(): void } {
  let release!: () => void;
  const replied = new Promise<void>((r) => (release = r));
  const off = fake.onCall(method, (call) => (matches(call) ? replied : undefined));
  return {
    release: () => release(),
    stop() {
      off();
      release();
    },
  };
}
