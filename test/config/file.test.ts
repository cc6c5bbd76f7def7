import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.js';
import { loadConfigFile, parseConfig } from '../../src/config/file.js';

const EXAMPLE_PATH = new URL('../../examples/countersign.yml', import.meta.url);
const EXAMPLE = readFileSync(EXAMPLE_PATH, 'utf8');

/** A minimal valid config with one catch-all route, to which cases add or break one thing. */
const BASE = `
routes:
  - name: refunds
    match:
      issueTypes: [refund]
    channel: C0REFUNDS1
    approvers:
      users: [U0APPROVER1]
  - name: default
    channel: C0GENERAL1
    approvers:
      users: [U0APPROVER2]
`;

function configErrorOf(text: string, source?: string): ConfigError {
  try {
    parseConfig(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).not.toContain('\n');
    return err as ConfigError;
  }
  throw new Error(`parseConfig accepted:\n${text}`);
}

describe('parseConfig', () => {
  describe('on examples/countersign.yml', () => {
    const loaded = parseConfig(EXAMPLE);

    it('accepts the example and fills in nothing unexpected', () => {
      expect(loaded.config.version).toBe(1);
      expect(loaded.config.defaults.deadlineMinutes).toBe(60);
      expect(loaded.config.slack).toEqual({ postsPerSecondPerChannel: 1, postBurst: 3, presenceCacheSeconds: 60, dndCacheSeconds: 60, decisionAckMs: 2000, digest: { backlog: 20, updateSeconds: 10 } });
      expect(loaded.config.routes.map((r) => r.name)).toEqual(['refunds', 'payments-urgent', 'default']);
    });

    it('lets U0APPROVER1 approve refunds, and makes the route without match the default', () => {
      const [refunds, , fallback] = loaded.config.routes;
      expect(refunds).toMatchObject({ channel: 'C0REFUNDS1', match: { issueTypes: ['refund', 'billing_dispute'] } });
      expect(refunds!.approvers.users).toContain('U0APPROVER1');
      expect(fallback!.match).toBeUndefined();
    });

    it('never lists the example agent’s owner as an approver', () => {
      for (const route of loaded.config.routes) expect(route.approvers.users).not.toContain('U0AGENTOWNR');
    });

    it('has a version of 16 hex digits: the start of the sha256 of the file’s bytes', () => {
      expect(loaded.version).toMatch(/^[0-9a-f]{16}$/);
      expect(loaded.version).toBe(createHash('sha256').update(EXAMPLE).digest('hex').slice(0, 16));
    });

    it('gives the same version for the same text, and another when any byte changes, even a comment', () => {
      expect(parseConfig(EXAMPLE).version).toBe(loaded.version);
      expect(parseConfig(`${EXAMPLE}\n# edited\n`).version).not.toBe(loaded.version);
    });
  });

  it('fills in defaults when only routes are given', () => {
    const { config } = parseConfig(BASE);
    expect(config.defaults.deadlineMinutes).toBe(60);
    expect(config.slack).toEqual({ postsPerSecondPerChannel: 1, postBurst: 3, presenceCacheSeconds: 60, dndCacheSeconds: 60, decisionAckMs: 2000, digest: { backlog: 20, updateSeconds: 10 } });
    expect(config.schedules).toEqual({});
    expect(config.routes[1]!.approvers.users).toEqual(['U0APPROVER2']);
  });

  it('accepts a route whose approvers are only a user group', () => {
    const { config } = parseConfig(BASE.replace('users: [U0APPROVER2]', 'usergroup: S0FINANCE1'));
    expect(config.routes[1]!.approvers).toEqual({ users: [], usergroup: 'S0FINANCE1' });
  });

  describe('each error names its place in the file', () => {
    it('a route missing its channel: routes[2].channel: Required', () => {
      const err = configErrorOf(EXAMPLE.replace('    channel: C0GENERAL1\n', ''));
      expect(err.message).toContain('routes[2].channel: Required');
    });

    it.each([
      ['a channel name instead of an id', '"#general"'],
      ['a lower-case id', 'c0general1'],
      ['a user id', 'U0APPROVER1'],
    ])('a bad channel id (%s)', (_what, channel) => {
      const err = configErrorOf(BASE.replace('C0GENERAL1', channel));
      expect(err.message).toMatch(/routes\[1\]\.channel: must be a Slack channel id/);
    });

    it('approvers with neither users nor a usergroup', () => {
      const err = configErrorOf(BASE.replace('      users: [U0APPROVER2]\n', '      users: []\n'));
      expect(err.message).toContain('routes[1].approvers: needs at least one of users or usergroup');
    });

    it('an approver that is not a Slack user id', () => {
      const err = configErrorOf(BASE.replace('users: [U0APPROVER2]', 'users: [U0APPROVER2, alice]'));
      expect(err.message).toMatch(/routes\[1\]\.approvers\.users\[1\]: must be a Slack user id/);
    });

    it('a usergroup that is not a Slack user group id', () => {
      const err = configErrorOf(BASE.replace('users: [U0APPROVER2]', 'usergroup: finance'));
      expect(err.message).toMatch(/routes\[1\]\.approvers\.usergroup: must be a Slack user group id/);
    });

    it('two routes with one name: the later one is named', () => {
      const err = configErrorOf(BASE.replace('name: default', 'name: refunds'));
      expect(err.message).toContain('routes[1].name: duplicates routes[0].name');
    });

    it('two default routes: the second route without match is named', () => {
      const text = `${BASE}  - name: other\n    channel: C0OTHER01\n    approvers:\n      users: [U0APPROVER1]\n`;
      const err = configErrorOf(text);
      expect(err.message).toContain('routes[2].match: only one route may omit match');
    });

    it('no default route', () => {
      const err = configErrorOf(BASE.replace('  - name: default\n', '  - name: default\n    match: { issueTypes: [access] }\n'));
      expect(err.message).toContain('routes: needs one default route');
    });

    it('no routes at all', () => {
      expect(configErrorOf('version: 1\n').message).toContain('routes: Required');
      expect(configErrorOf('routes: []\n').message).toMatch(/routes: /);
    });

    it('a route whose match has no issue types', () => {
      const err = configErrorOf(BASE.replace('issueTypes: [refund]', 'issueTypes: []'));
      expect(err.message).toMatch(/routes\[0\]\.match\.issueTypes: /);
    });

    it('a deadline that is not a positive whole number of minutes', () => {
      expect(configErrorOf(`defaults:\n  deadlineMinutes: 0\n${BASE}`).message).toMatch(/defaults\.deadlineMinutes: /);
      expect(configErrorOf(`defaults:\n  deadlineMinutes: 1.5\n${BASE}`).message).toMatch(/defaults\.deadlineMinutes: /);
    });

    it('a config version other than 1', () => {
      expect(configErrorOf(`version: 2\n${BASE}`).message).toMatch(/(^|\s)version: /);
    });

    it('several problems at once, all on one line', () => {
      const err = configErrorOf(BASE.replace('C0GENERAL1', 'general').replace('users: [U0APPROVER1]', 'users: [bob]'));
      expect(err.message).toContain('routes[1].channel');
      expect(err.message).toContain('routes[0].approvers.users[0]');
    });

    it('the source it was given, first', () => {
      expect(configErrorOf('version: 1\n', '/etc/countersign.yml').message).toMatch(/^\/etc\/countersign\.yml: /);
    });
  });

  describe('unknown keys are rejected, so a typo is not silently ignored', () => {
    it.each([
      ['at the top level', `rutes: []\n${BASE}`, /\(root\): .*rutes/],
      ['in a route', BASE.replace('    channel: C0GENERAL1\n', '    channel: C0GENERAL1\n    chanel: C0GENERAL2\n'), /routes\[1\]: .*chanel/],
      ['in approvers', BASE.replace('users: [U0APPROVER2]', 'users: [U0APPROVER2]\n      user_group: S0FINANCE1'), /routes\[1\]\.approvers: .*user_group/],
      ['in match', BASE.replace('issueTypes: [refund]', 'issueTypes: [refund]\n      issueType: billing'), /routes\[0\]\.match: .*issueType/],
      ['in defaults', `defaults:\n  deadlineMinute: 5\n${BASE}`, /defaults: .*deadlineMinute/],
      ['in slack', `slack:\n  postsPerSecond: 5\n${BASE}`, /slack: .*postsPerSecond/],
    ])('%s', (_where, text, pattern) => {
      expect(configErrorOf(text).message).toMatch(pattern);
    });
  });

  describe('YAML that does not parse', () => {
    it.each([
      ['an unclosed flow sequence', 'routes: [\n'],
      ['a duplicate key', `version: 1\nversion: 1\n${BASE}`],
      ['a tab used for indentation', 'routes:\n\t- name: default\n'],
    ])('names YAML (%s), on one line', (_what, text) => {
      const err = configErrorOf(text, 'countersign.yml');
      expect(err.message).toMatch(/^countersign\.yml: YAML: \S/);
    });

    it('is told apart from YAML that parses to something other than a mapping', () => {
      const err = configErrorOf('- just\n- a list\n');
      expect(err.message).not.toContain('YAML');
      expect(err.message).toMatch(/\(root\): /);
    });

    it('treats an empty file as a config with no routes', () => {
      expect(configErrorOf('').message).toContain('routes: Required');
    });
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'countersign-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads and validates the example file, with the same version as parsing its text', async () => {
    const loaded = await loadConfigFile(EXAMPLE_PATH.pathname);
    expect(loaded).toEqual(parseConfig(EXAMPLE));
  });

  it('names COUNTERSIGN_CONFIG and the path when the file is missing', async () => {
    const missing = join(dir, 'nope.yml');
    const err = await loadConfigFile(missing).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/^COUNTERSIGN_CONFIG: /);
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toContain('ENOENT');
  });

  it('names the file’s path in validation errors', async () => {
    const path = join(dir, 'bad.yml');
    await writeFile(path, BASE.replace('    channel: C0GENERAL1\n', ''));
    await expect(loadConfigFile(path)).rejects.toThrow(`${path}: routes[1].channel: Required`);
  });
});
