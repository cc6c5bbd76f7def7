import type { FlowPorts } from '../../flow/ports.js';

/** What every listener gets: the flow's ports. Registered once in index.ts. */
export type ListenerDeps = FlowPorts;

/** Channel of a block_actions payload, whether from `channel` or `container`. */
export function channelOf(body: { channel?: { id?: string }; container?: { channel_id?: string } }): string | undefined {
  return body.channel?.id ?? body.container?.channel_id;
}

/** Answers the clicker alone (ephemeral), when there is something to say and a channel to say it in. */
export async function tell(deps: ListenerDeps, channel: string | undefined, user: string, text: string | undefined): Promise<void> {
  if (text && channel) await deps.slack.ephemeral(channel, user, text);
}

/** The trimmed text of a reason modal's input. */
export function reasonInput(view: { state: { values: Record<string, Record<string, { value?: string | null }>> } }, block: string, action: string): string {
  return view.state.values[block]?.[action]?.value?.trim() ?? '';
}
