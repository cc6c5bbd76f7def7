import { describe, expect, it } from 'vitest';
import { callbackHosts, internalKind } from '../../src/domain/callback-hosts.js';
import { configSchema } from '../../src/domain/config.js';

describe('internalKind', () => {
  it.each([
    ['169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fdff::1', 'private'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
  ])('calls %s %s', (address, kind) => {
    expect(internalKind(address)).toBe(kind);
  });

  it.each(['93.184.216.34', '172.32.0.1', '172.15.255.255', '11.0.0.1', '2606:4700::1111', '::ffff:5db8:d822'])('finds %s public', (address) => {
    expect(internalKind(address)).toBeUndefined();
  });
});

describe('callbackHosts(allowedHosts).refuseUrl', () => {
  it('refuses every URL when nothing is listed (the default)', () => {
    const none = callbackHosts(configSchema.shape.callbacks.parse(undefined).allowedHosts);
    expect(none.refuseUrl('https://agents.example.com/cb')).toBe('host agents.example.com is not in callbacks.allowedHosts');
  });

  const hosts = callbackHosts(['agents.example.com', '*.hooks.example.org', '**.deep.example.net', '127.0.0.2', '10.20.0.0/16', '[fd00::5]']);

  it.each([
    'https://agents.example.com/cb',
    'https://AGENTS.example.com./cb',
    'http://agents.example.com:8443/cb',
    'https://a.hooks.example.org/',
    'https://x.y.deep.example.net/',
    'http://127.0.0.2:9000/',
    'http://0x7f000002/',
    'http://10.20.3.4/',
    'http://[fd00::5]/',
  ])('allows %s', (url) => {
    expect(hosts.refuseUrl(url)).toBeUndefined();
  });

  it.each([
    ['https://evil.example.com/', 'host evil.example.com is not in callbacks.allowedHosts'],
    ['https://a.b.hooks.example.org/', 'host a.b.hooks.example.org is not in callbacks.allowedHosts'],
    ['http://127.0.0.1/', '127.0.0.1 is a loopback address: list it in callbacks.allowedHosts to allow it'],
    ['http://10.21.0.1/', '10.21.0.1 is a private address: list it in callbacks.allowedHosts to allow it'],
    ['http://0177.0.0.1/', '127.0.0.1 is a loopback address: list it in callbacks.allowedHosts to allow it'],
    ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe is a metadata address: list it in callbacks.allowedHosts to allow it'],
    ['http://localhost/', 'host localhost is internal: list it in callbacks.allowedHosts to allow it'],
    ['http://localhost./', 'host localhost is internal: list it in callbacks.allowedHosts to allow it'],
    ['file:///etc/passwd', 'must be an http or https URL'],
  ])('refuses %s: %s', (url, reason) => {
    expect(hosts.refuseUrl(url)).toBe(reason);
  });

  it('lets an internal name in only by its exact entry, never through a glob', () => {
    const any = callbackHosts(['**', '*']);
    expect(any.refuseUrl('https://anything.example.com/')).toBeUndefined();
    expect(any.refuseUrl('http://metadata.google.internal/')).toBe('host metadata.google.internal is internal: list it in callbacks.allowedHosts to allow it');
    expect(any.refuseUrl('http://app.localhost/')).toMatch(/is internal/);
    expect(any.refuseUrl('http://169.254.169.254/')).toMatch(/is a metadata address/);
    expect(callbackHosts(['localhost']).refuseUrl('http://localhost:8080/')).toBeUndefined();
  });
});

describe('callbackHosts(allowedHosts).refuseAddress, for the address connected to', () => {
  const hosts = callbackHosts(['*.example.com', '127.0.0.2', '10.20.0.0/16']);

  it('refuses an internal address an allowed name resolves to, naming both', () => {
    expect(hosts.refuseAddress('127.0.0.1', 'rebind.example.com')).toBe(
      '127.0.0.1 is a loopback address (rebind.example.com resolves to it): list it in callbacks.allowedHosts to allow it',
    );
    expect(hosts.refuseAddress('::ffff:7f00:1', 'rebind.example.com')).toMatch(/loopback/);
    expect(hosts.refuseAddress('169.254.169.254', 'rebind.example.com')).toMatch(/metadata/);
  });

  it('allows a public address, and an internal one that is listed itself', () => {
    expect(hosts.refuseAddress('93.184.216.34', 'a.example.com')).toBeUndefined();
    expect(hosts.refuseAddress('127.0.0.2', 'a.example.com')).toBeUndefined();
    expect(hosts.refuseAddress('10.20.9.9', 'a.example.com')).toBeUndefined();
  });
});

describe('callbacks.allowedHosts in the config', () => {
  const parse = (allowedHosts: unknown) => configSchema.shape.callbacks.safeParse({ allowedHosts });

  it('takes host names, globs, addresses and CIDR ranges', () => {
    expect(parse(['agents.example.com', '*.example.org', '127.0.0.1', '::1', '[::1]', '10.0.0.0/8', 'fd00::/8']).success).toBe(true);
  });

  it.each([['https://agents.example.com'], ['agents.example.com:8080'], ['10.0.0.0/33'], ['::/129'], ['a b']])('refuses %s', (entry) => {
    expect(parse([entry]).success).toBe(false);
  });
});
