import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fillSummary, parseGatewayConfig } from '../../../src/adapters/mcp-gateway/config.js';
import { ConfigError } from '../../../src/config/env.js';
import { runCli } from '../../support/cli.js';

const agent = { id: 'support-agent', owner: 'U0AGENTOWNR' };
const parse = (c: unknown, env: Record<string, string> = {}) => parseGatewayConfig(stringify(c), 'gw.yml', env, '/srv/gateway');
const errorOf = (c: unknown, env: Record<string, string> = {}) => {
  try {
    parse(c, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('parsed');
};

describe('the MCP gateway config', () => {
  it('takes a stdio upstream and a stdio client with the defaults, the command running beside the config file', () => {
    const c = parse({ upstream: { command: 'node', args: ['server.js'] }, agent });
    expect(c).toMatchObject({ serve: 'stdio', agent, waitMs: 600_000, progressMs: 10_000, confidence: 0.9 });
    expect(c.upstream).toMatchObject({ command: 'node', args: ['server.js'], cwd: '/srv/gateway', timeoutSeconds: 60 });
    expect(parse({ upstream: { command: 'node', cwd: 'servers' }, agent }).upstream.cwd).toBe('/srv/gateway/servers');
  });

  it('reads JSON as well as YAML', () => {
    const c = parseGatewayConfig(JSON.stringify({ upstream: { url: 'http://127.0.0.1:9000/mcp' }, agent }), 'gw.json', {}, '/');
    expect(c.upstream.url).toBe('http://127.0.0.1:9000/mcp');
  });

  it('names the field of each mistake', () => {
    expect(errorOf({ upstream: { command: 'node', url: 'http://x/mcp' }, agent })).toBe('gw.yml: upstream: give either command (a stdio server) or url (Streamable HTTP), exactly one');
    expect(errorOf({ upstream: {}, agent })).toContain('upstream: give either command');
    expect(errorOf({ upstream: { command: 'node' } })).toBe('gw.yml: agent: Required when serve is stdio: who the stdio client is');
    expect(errorOf({ upstream: { command: 'node' }, agent: { id: 'a', owner: 'bob' } })).toBe('gw.yml: agent.owner: must be a Slack user id like U0123ABCD');
    expect(errorOf({ upstream: { command: 'node' }, serve: 'http' })).toBe('gw.yml: http: Required when serve is http: host, port and clients');
    expect(errorOf({ upstream: { command: 'node' }, serve: 'http', http: { clients: [{ token: 'short', agent }] } })).toContain('http.clients[0].token: must be at least 16 characters');
    expect(errorOf({ upstream: { command: 'node' }, agent, tools: { refund: { type: 'Refund' } } })).toContain('tools.refund.type: must be dotted lower-case like payments.refund');
    expect(errorOf({ upstream: { command: 'node' }, agent, approval: { waitSeconds: 0 } })).toContain('approval.waitSeconds:');
    expect(() => parseGatewayConfig('upstream: [', 'gw.yml', {})).toThrow(/^gw\.yml: not YAML or JSON/);
  });

  it('reads a client’s token from the environment variable it names, and refuses an unset one or a token two clients share', () => {
    const http = (clients: unknown[]) => ({ upstream: { command: 'node' }, serve: 'http', http: { clients } });
    expect(parse(http([{ tokenEnv: 'GW_TOKEN', agent }]), { GW_TOKEN: 'a-long-enough-token-123' }).http!.clients[0]!.token).toBe('a-long-enough-token-123');
    expect(errorOf(http([{ tokenEnv: 'GW_TOKEN', agent }]))).toBe('gw.yml: http.clients[0].tokenEnv: GW_TOKEN is not set');
    const token = 'the-same-token-for-both';
    expect(errorOf(http([{ token, agent }, { token, agent: { ...agent, id: 'other' } }]))).toContain('http.clients[1]: the same token as an earlier client');
  });

  it('fills a tool’s summary from the call’s arguments, leaving a missing one as written', () => {
    expect(fillSummary('Refund {amountUsd} USD for order #{orderId}', { amountUsd: 340, orderId: '4521' })).toBe('Refund 340 USD for order #4521');
    expect(fillSummary('Refund {amountUsd} USD', {})).toBe('Refund {amountUsd} USD');
    const c = parse({ upstream: { command: 'node' }, agent, tools: { refund: { type: 'payments.refund', summary: 'Refund {amountUsd}' } } });
    expect(c.tools.refund!.summary!({ amountUsd: 5 })).toBe('Refund 5');
  });
});

// Each case starts the CLI (node + tsx): seconds each on a loaded machine, so they run side by side with room to spare.
describe.concurrent('countersign mcp-gateway', { timeout: 90_000 }, () => {
  it('says how to use it without --config (exit 64)', async () => {
    const r = await runCli(['mcp-gateway']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('usage: countersign mcp-gateway --config <gateway.yml>');
  });

  it('refuses a bad config naming the file and the field (exit 78), before starting anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-'));
    writeFileSync(join(dir, 'gw.yml'), stringify({ upstream: { command: 'node' }, agent: { id: 'a', owner: 'nobody' } }));
    const r = await runCli(['mcp-gateway', '--config', join(dir, 'gw.yml')]);
    expect(r.code).toBe(78);
    expect(r.stderr).toBe(`countersign: ${join(dir, 'gw.yml')}: agent.owner: must be a Slack user id like U0123ABCD\n`);
    expect(r.stdout).toBe('');
  });

  it('says which config file is missing (exit 66)', async () => {
    const r = await runCli(['mcp-gateway', '--config', '/nonexistent/gw.yml']);
    expect(r.code).toBe(66);
    expect(r.stderr).toContain('cannot read /nonexistent/gw.yml: no such file');
  });
});
