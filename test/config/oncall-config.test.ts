import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../src/config/file.js';
import { onCallAt } from '../../src/domain/schedule/oncall.js';

const schedule = `
schedules:
  ops:
    layers:
      - name: main
        rotation: { users: [U0ONCALL01], kind: daily, timezone: UTC, start: "2026-01-01" }
`;
const route = (extra: string) => `${schedule}
routes:
  - name: default
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }
${extra}`;
const withIcal = (file: string) => route('').replace('    layers:', `    ical: ${file}\n    layers:`);

describe('routes, schedules and chains in the config', () => {
  it('accepts a route with schedules and a chain', () => {
    const { config } = parseConfig(route(`    schedules: [ops]
    chain:
      name: ops
      steps: [{ targets: [primary_in_channel], waitMinutes: 5 }, { targets: [dm_primary, secondary], waitMinutes: 10 }]
      repeat: 2`));
    expect(config.routes[0]).toMatchObject({ schedules: ['ops'], chain: { name: 'ops', repeat: 2 } });
    expect(config.schedules.ops!.layers[0]!.rotation.handoff).toBe('09:00');
    expect(config.slack).toMatchObject({ presenceCacheSeconds: 60, dndCacheSeconds: 60 });
  });

  it.each([
    ['an unknown schedule, by its place', route('    schedules: [ops, x]'), 'routes[0].schedules[1]: unknown schedule "x"'],
    ['an empty match rule', `routes:
  - name: a
    match: {}
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }
  - name: b
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }`, 'routes[0].match: needs at least one of issueTypes, agents, actionTypes, urgency or labels'],
    ['an unknown urgency', `routes:
  - name: a
    match: { urgency: [urgent] }
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }
  - name: b
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }`, 'routes[0].match.urgency[0]'],
    ['an unknown match field', `routes:
  - name: a
    match: { agent: [x] }
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }
  - name: b
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }`, 'routes[0].match'],
    ['two default routes', `routes:
  - name: a
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }
  - name: b
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }`, 'routes[1].match: only one route may omit match'],
    ['a bad chain target', route('    chain: { name: c, steps: [{ targets: [everyone], waitMinutes: 5 }] }'), 'routes[0].chain.steps[0].targets[0]'],
    ['a bad time zone in a schedule', `schedules:
  ops:
    layers:
      - name: main
        rotation: { users: [U0ONCALL01], kind: daily, timezone: Mars/Base, start: "2026-01-01" }
routes:
  - name: default
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }`, 'schedules.ops.layers[0].rotation.timezone: must be an IANA time zone'],
    ['a schedule name that is not a slug', `schedules:
  Ops Team:
    layers:
      - name: main
        rotation: { users: [U0ONCALL01], kind: daily, timezone: UTC, start: "2026-01-01" }
routes:
  - name: default
    channel: C0GENERAL1
    approvers: { users: [U0APPROVER1] }`, 'schedules'],
  ])('rejects %s, naming the field', (_name, text, message) => {
    expect(() => parseConfig(text, 'test')).toThrow(message);
  });

  it('imports an iCal file named by a schedule, relative to the config file, as overrides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-ical-'));
    writeFileSync(
      join(dir, 'rota.ics'),
      ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', 'UID:a@t', 'SUMMARY:On call U0ICALUSR1', 'DTSTART:20260301T090000Z', 'DTEND:20260301T170000Z', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n'),
    );
    writeFileSync(join(dir, 'countersign.yml'), withIcal('rota.ics'));
    const { config } = parseConfig(withIcal('rota.ics'), 'x', { baseDir: dir, now: new Date('2026-02-01T00:00:00Z') });
    expect(config.schedules.ops!.overrides).toEqual([expect.objectContaining({ user: 'U0ICALUSR1', from: '2026-03-01T09:00:00.000Z' })]);
    expect(onCallAt({ name: 'ops', ...config.schedules.ops! }, new Date('2026-03-01T10:00:00Z'))?.user).toBe('U0ICALUSR1');
    // loadConfigFile reads it beside the config file; the window is around now, so a 2026 event may be outside it.
    await expect(loadConfigFile(join(dir, 'countersign.yml'))).resolves.toBeDefined();
  });

  it('counts the iCal file in the config version, so a changed rota reloads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-ical-'));
    const ics = (user: string) => ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//t//EN', 'BEGIN:VEVENT', 'UID:a@t', `SUMMARY:On call ${user}`, 'DTSTART:20260301T090000Z', 'DTEND:20260301T170000Z', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n');
    writeFileSync(join(dir, 'rota.ics'), ics('U0ICALUSR1'));
    const first = parseConfig(withIcal('rota.ics'), 'x', { baseDir: dir }).version;
    writeFileSync(join(dir, 'rota.ics'), ics('U0ICALUSR2'));
    expect(parseConfig(withIcal('rota.ics'), 'x', { baseDir: dir }).version).not.toBe(first);
  });

  it('names a missing iCal file', () => {
    expect(() => parseConfig(withIcal('nope.ics'), 'cfg', { baseDir: tmpdir() })).toThrow('cfg: schedules.ops.ical: cannot read nope.ics (ENOENT)');
  });
});
