import { describe, expect, it } from 'vitest';
import { SlackCallError } from '../src/errors.js';

describe('SlackCallError', () => {
  it('is permanent when Slack refused the call for a reason that will not pass', () => {
    for (const code of ['channel_not_found', 'not_in_channel', 'is_archived', 'invalid_blocks']) {
      expect(new SlackCallError('chat.postMessage', code, true).permanent).toBe(true);
    }
  });

  it("is transient when Slack's answer is its own trouble, or when nobody knows what happened", () => {
    for (const code of ['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']) {
      expect(new SlackCallError('chat.postMessage', code, true).permanent).toBe(false);
    }
    expect(new SlackCallError('chat.postMessage', 'An HTTP protocol error occurred: statusCode = 500', false).permanent).toBe(false);
  });
});
