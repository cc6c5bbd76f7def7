import { describe, expect, it } from 'vitest';
import { commandEnv, ConfigError, loadEnv, loadEnvFor, slackMode } from '../../src/config/env.js';
import { ROOT, runProcess } from '../support/cli.js';

/** Runs loadEnv and returns the ConfigError it throws; fails the test if it throws nothing or something else. */
function configErrorOf(source: Record<string, string | undefined>): ConfigError {
  try {
    loadEnv(source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadEnv accepted ${JSON.stringify(source)}`);
}

describe('loadEnv', () => {
  describe('with an empty environment', () => {
    const env = loadEnv({});

    it('connects to Redis on localhost by default', () => {
      expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    });

    it('listens on port 3000 by default', () => {
      expect(env.PORT).toBe(3000);
    });

    it('runs the receiver and the workers in one process by default', () => {
      expect(env.COUNTERSIGN_ROLE).toBe('all');
    });

    it('migrates at start by default', () => {
      expect(env.MIGRATE_ON_START).toBe(true);
    });

    it('falls back to embedded PGlite: no DATABASE_URL', () => {
      expect(env.DATABASE_URL).toBeUndefined();
    });

    it('talks to Slack’s own Web API and uses the contract’s queue prefix', () => {
      expect(env.SLACK_API_URL).toBe('https://slack.com/api/');
      expect(env.COUNTERSIGN_QUEUE_PREFIX).toBe('countersign');
    });

    it('has no API tokens, so the agent HTTP API is closed', () => {
      expect(env.API_TOKENS).toEqual([]);
    });
  });

  it.each([
    ['false', false],
    ['0', false],
    ['no', false],
    ['off', false],
    ['true', true],
    ['1', true],
  ])('reads MIGRATE_ON_START=%s as the boolean %s, not as a truthy string', (raw, expected) => {
    expect(loadEnv({ MIGRATE_ON_START: raw }).MIGRATE_ON_START).toBe(expected);
  });

  it('refuses a MIGRATE_ON_START that is not a boolean word', () => {
    expect(configErrorOf({ MIGRATE_ON_START: 'sometimes' }).message).toMatch(/MIGRATE_ON_START/);
  });

  it('coerces PORT to a number, and accepts 0 (a random free port, as tests use)', () => {
    expect(loadEnv({ PORT: '8080' }).PORT).toBe(8080);
    expect(loadEnv({ PORT: '0' }).PORT).toBe(0);
  });

  it('treats a blank PORT like an unset one (port 3000), not as port 0', () => {
    expect(loadEnv({ PORT: '' }).PORT).toBe(3000);
    expect(loadEnv({ PORT: '  ' }).PORT).toBe(3000);
  });

  it('treats blank worker settings as unset too, rather than as 0', () => {
    const env = loadEnv({ WORKER_CONCURRENCY: '', WORKER_LOCK_MS: ' ' });
    expect(env.WORKER_CONCURRENCY).toBe(50);
    expect(env.WORKER_LOCK_MS).toBe(30_000);
  });

  it('treats a blank DATABASE_URL as unset, so the embedded database is used', () => {
    expect(loadEnv({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
    expect(loadEnv({ DATABASE_URL: '   ' }).DATABASE_URL).toBeUndefined();
  });

  it('accepts postgres:// and postgresql:// database URLs', () => {
    expect(loadEnv({ DATABASE_URL: 'postgres://u:p@db:5432/cs' }).DATABASE_URL).toBe('postgres://u:p@db:5432/cs');
    expect(loadEnv({ DATABASE_URL: 'postgresql://db/cs' }).DATABASE_URL).toBe('postgresql://db/cs');
  });

  describe('a bad value throws a ConfigError of one line that names the variable', () => {
    it.each<[string, Record<string, string>, string]>([
      ['a PORT that is not a number', { PORT: 'http' }, 'PORT'],
      ['a PORT above 65535', { PORT: '70000' }, 'PORT'],
      ['a negative PORT', { PORT: '-1' }, 'PORT'],
      ['a fractional PORT', { PORT: '80.5' }, 'PORT'],
      ['a MySQL DATABASE_URL', { DATABASE_URL: 'mysql://root@db:3306/countersign' }, 'DATABASE_URL'],
      ['a DATABASE_URL that is not a URL', { DATABASE_URL: 'localhost/countersign' }, 'DATABASE_URL'],
      ['a REDIS_URL that is not a URL', { REDIS_URL: 'redis here' }, 'REDIS_URL'],
      ['a REDIS_URL without its scheme, which would quietly mean db 0 of the default host', { REDIS_URL: 'localhost:6379' }, 'REDIS_URL'],
      ['a REDIS_URL of another scheme', { REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
      ['an unknown COUNTERSIGN_ROLE', { COUNTERSIGN_ROLE: 'both' }, 'COUNTERSIGN_ROLE'],
      ['a SLACK_BOT_TOKEN without a signing secret or app token', { SLACK_BOT_TOKEN: 'xoxb-1' }, 'SLACK_SIGNING_SECRET'],
      ['a SLACK_SIGNING_SECRET without a bot token', { SLACK_SIGNING_SECRET: 'shh' }, 'SLACK_BOT_TOKEN'],
      ['a SLACK_APP_TOKEN without a bot token', { SLACK_APP_TOKEN: 'xapp-1' }, 'SLACK_BOT_TOKEN'],
    ])('%s', (_what, source, variable) => {
      const err = configErrorOf(source);
      expect(err.name).toBe('ConfigError');
      expect(err.message).not.toContain('\n');
      expect(err.message).toMatch(new RegExp(`(^|\\s)${variable}: \\S`));
    });

    it('names each bad variable when several are wrong, still on one line', () => {
      const err = configErrorOf({ PORT: 'x', DATABASE_URL: 'mysql://db/x' });
      expect(err.message).not.toContain('\n');
      expect(err.message).toContain('PORT: ');
      expect(err.message).toContain('DATABASE_URL: ');
    });

    it('does not echo a rejected DATABASE_URL, which may carry a password', () => {
      const err = configErrorOf({ DATABASE_URL: 'mysql://admin:hunter2@db/x' });
      expect(err.message).not.toContain('hunter2');
    });

    it('tells the bot-token-only case how to fix it: a signing secret, or an app token for Socket Mode', () => {
      const err = configErrorOf({ SLACK_BOT_TOKEN: 'xoxb-1' });
      expect(err.message).toContain('SLACK_SIGNING_SECRET');
      expect(err.message).toContain('SLACK_APP_TOKEN');
    });
  });

  it('accepts redis:// and rediss:// URLs, with a db number', () => {
    expect(loadEnv({ REDIS_URL: 'redis://localhost:6379/2' }).REDIS_URL).toBe('redis://localhost:6379/2');
    expect(loadEnv({ REDIS_URL: 'rediss://:pw@cache.internal:6380' }).REDIS_URL).toBe('rediss://:pw@cache.internal:6380');
  });

  it('says what a REDIS_URL must look like, without echoing it', () => {
    const err = configErrorOf({ REDIS_URL: 'localhost:6379' });
    expect(err.message).toBe('Invalid environment: REDIS_URL: must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0');
  });

  describe('API_TOKENS', () => {
    it('splits on commas, trims, and drops blanks', () => {
      expect(loadEnv({ API_TOKENS: ' alpha , beta,,  ,gamma, ' }).API_TOKENS).toEqual(['alpha', 'beta', 'gamma']);
    });

    it('is a single token when there is no comma', () => {
      expect(loadEnv({ API_TOKENS: 'only-one' }).API_TOKENS).toEqual(['only-one']);
    });

    it('is empty when the variable is only commas and spaces', () => {
      expect(loadEnv({ API_TOKENS: ' , ,, ' }).API_TOKENS).toEqual([]);
    });
  });
});

describe('slackMode', () => {
  it('is HTTP mode with a signing secret and a bot token', () => {
    expect(slackMode(loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'shh' }))).toEqual({
      kind: 'http',
      signingSecret: 'shh',
      botToken: 'xoxb-1',
    });
  });

  it('is Socket Mode with an app token and a bot token', () => {
    expect(slackMode(loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }))).toMatchObject({
      kind: 'socket',
      appToken: 'xapp-1',
      botToken: 'xoxb-1',
    });
  });

  it('prefers Socket Mode when an app token is given beside a signing secret', () => {
    const mode = slackMode(loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', SLACK_SIGNING_SECRET: 'shh' }));
    expect(mode).toEqual({ kind: 'socket', appToken: 'xapp-1', botToken: 'xoxb-1', signingSecret: 'shh' });
  });

  it('is none without any Slack credentials, and blank credentials count as none', () => {
    expect(slackMode(loadEnv({}))).toEqual({ kind: 'none' });
    expect(slackMode(loadEnv({ SLACK_BOT_TOKEN: ' ', SLACK_SIGNING_SECRET: '', SLACK_APP_TOKEN: '' }))).toEqual({ kind: 'none' });
  });

  it('trims surrounding whitespace from tokens, as a .env file may leave it', () => {
    expect(slackMode(loadEnv({ SLACK_BOT_TOKEN: ' xoxb-1 ', SLACK_SIGNING_SECRET: 'shh\t' }))).toEqual({
      kind: 'http',
      signingSecret: 'shh',
      botToken: 'xoxb-1',
    });
  });
});

describe('commandEnv: each command-line tool checks only the variables it reads', () => {
  it('lets a tool that never talks to Slack run with the bot token set without its signing secret', () => {
    expect(loadEnvFor(commandEnv.database, { SLACK_BOT_TOKEN: 'xoxb-1', DATABASE_URL: 'postgres://db/cs' }).DATABASE_URL).toBe('postgres://db/cs');
    expect(loadEnvFor(commandEnv.auditVerify, { SLACK_BOT_TOKEN: 'xoxb-1' }).SLACK_BOT_TOKEN).toBe('xoxb-1');
  });

  it('still refuses a bad value of a variable the tool reads', () => {
    expect(() => loadEnvFor(commandEnv.database, { DATABASE_URL: 'mysql://db/x' })).toThrow(/DATABASE_URL: /);
    expect(() => loadEnvFor(commandEnv.queue, { REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
  });
});

describe('a scheme-less REDIS_URL, through the processes that read it', () => {
  const expected = 'countersign: Invalid environment: REDIS_URL: must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0\n';

  it('stops the bot (npm start) with exit 78 and one line naming REDIS_URL', async () => {
    const r = await runProcess(`${ROOT}src/main.ts`, [], { env: { REDIS_URL: 'localhost:6379' } });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe(expected);
  });

  it('stops npm run sandbox:agents the same way', async () => {
    const r = await runProcess(`${ROOT}scripts/sandbox-agents.ts`, [], { env: { REDIS_URL: 'localhost:6379' } });
    expect(r.code).toBe(78);
    expect(r.stderr).toBe(expected);
  });
}, 60_000);
