import type { WebClient } from '@slack/web-api';
import { parseAnchor, type PostedAnchor } from '../domain/audit-anchor.js';

/** History pages of 200 messages: about 22 years of hourly anchors before this cap. */
const MAX_PAGES = 1000;

/**
 * Reads the anchors back from the channel's history (conversations.history,
 * newest first), keeping only messages our own bot posted: anybody else in
 * the channel could post a line that looks like an anchor.
 */
export async function readAnchors(client: WebClient, channel: string): Promise<PostedAnchor[]> {
  const me = await client.auth.test();
  const anchors: PostedAnchor[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await client.conversations.history({ channel, limit: 200, cursor });
    for (const m of res.messages ?? []) {
      if (!m.ts || !me.bot_id || m.bot_id !== me.bot_id) continue;
      const a = parseAnchor(m.text);
      if (a) anchors.push({ ...a, ts: m.ts });
    }
    cursor = res.response_metadata?.next_cursor;
    if (!res.has_more || !cursor) break;
  }
  return anchors.reverse();
}
