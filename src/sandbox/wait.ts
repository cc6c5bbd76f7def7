/** The fake's waitFor: resolves from recorded calls, or rejects naming the last ones. */
import type { EventEmitter } from 'node:events';
import type { FakeCall, FakeSlack } from './slack-api.js';

// Captured at import so waitFor's timeout still fires when a test installs vi.useFakeTimers().
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

function describeCall(c: FakeCall): string {
  const { channel, ts, text, user, view_id } = c.args;
  const brief = JSON.stringify({ channel, ts, user, view_id, text: typeof text === 'string' ? text.slice(0, 40) : undefined });
  return `  ${new Date(c.at).toISOString()} ${c.method} ${brief}`;
}

export function createWaitFor(calls: FakeCall[], events: EventEmitter): FakeSlack['waitFor'] {
  const callsTo = (method: string) => calls.filter((c) => c.method === method);
  return ((target: string | ((c: FakeCall) => boolean), a?: number, b?: number): Promise<never> => {
    const byMethod = typeof target === 'string';
    const count = byMethod ? (a ?? 1) : 1;
    const timeoutMs = (byMethod ? b : a) ?? 5000;
    const check = (): unknown =>
      byMethod ? (callsTo(target).length >= count ? callsTo(target) : undefined) : calls.find(target);
    return new Promise((resolve, reject) => {
      const initial = check();
      if (initial !== undefined) return resolve(initial as never);
      const onCall = () => {
        const found = check();
        if (found === undefined) return;
        cleanup();
        resolve(found as never);
      };
      const timer = realSetTimeout(() => {
        cleanup();
        const what = byMethod ? `${count}× ${target} (saw ${callsTo(target).length})` : `a call matching ${target.toString().slice(0, 120)}`;
        const recent = calls.slice(-15).map(describeCall).join('\n') || '  (none)';
        reject(new Error(`fake-slack: timed out after ${timeoutMs}ms waiting for ${what}. Last ${Math.min(calls.length, 15)} of ${calls.length} calls:\n${recent}`));
      }, timeoutMs);
      const cleanup = () => {
        realClearTimeout(timer);
        events.off('call', onCall);
      };
      events.on('call', onCall);
    });
  }) as FakeSlack['waitFor'];
}
