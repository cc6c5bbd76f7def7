import type { FlowPorts } from '../../flow/ports.js';

/** What every listener gets: the flow's ports. Registered once in index.ts. */
export type ListenerDeps = FlowPorts;

/** Channel of a block_actions payload, whether from `channel` or `container`. */
export function channelOf(body: { channel?: { id?: string }; container?: { channel_id?: string } }): string | undefined {
  return body.channel?.id ?? body.container?.channel_id;
}
