import { Writable } from 'node:stream';
import { HOME_JOB } from '../../src/queue/names.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, APPROVER, makeEscalation, type Harness } from '../support/harness.js';
import { startCallbackServer } from '../support/callback-server.js';
import { eventually } from '../support/services.js';

type Line = Record<string, unknown> & { msg?: string };

/** Every JSON line the bot logs, parsed. */
function capture() {
  const lines: Line[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { lines, destination };
}

let h: Harness;
let cb: Awaited<ReturnType<typeof startCallbackServer>>;
const log = capture();

beforeAll(async () => {
  h = await startHarness({ env: { LOG_LEVEL: 'debug' }, logDestination: log.destination });
  cb = await startCallbackServer();
});
afterAll(async () => {
  await h?.close();
  await cb?.close();
});

describe("an escalation's log lines", () => {
  it('carry its escalation id and execution id on every line, from intake through the click to the callback', async () => {
    const e = makeEscalation({ callback: { url: cb.url } });
    // The agent's endpoint fails once: the retry's failure line is part of the path too.
    cb.failNext(1);
    await h.enqueue(e);
    const card = await h.card(e.id);
    expect((await h.click(APPROVER, 'countersign.approve', card)).status).toBe(200);
    await cb.waitFor(e.id);
    // The callback job logs its end once the agent's answer is in.
    await eventually(async () => (log.lines.some((l) => l.queue === 'callbacks' && l.msg === 'job done') ? true : undefined), 'the callback job to end');

    // A line is about this escalation when it names it anywhere, or comes from one of its jobs or its click.
    const about = log.lines.filter((l) => JSON.stringify(l).includes(e.id) || l.jobId === e.id || l.userId === APPROVER);
    for (const line of about) expect(line, JSON.stringify(line)).toMatchObject({ escalationId: e.id, executionId: e.executionId });
    // …and those lines cover each step of its path.
    const steps = about.map((l) => `${String(l.queue ?? l.type ?? '')} ${l.msg}`);
    expect(steps).toEqual(
      expect.arrayContaining([
        'escalations job done',
        'block_actions slack request done',
        'notifications job done',
        'callbacks job failed',
        'callbacks job done',
      ]),
    );
    // No line from a job or a Slack request (they all concern this escalation here) is without the ids;
    // but an App Home refresh, a job per user that any number of outcomes share (scheduler.ts refreshHomes).
    const scoped = log.lines.filter((l) => (l.queue !== undefined || l.userId !== undefined) && l.job !== HOME_JOB);
    for (const line of scoped) expect(line, JSON.stringify(line)).toMatchObject({ escalationId: e.id, executionId: e.executionId });
  });
});
