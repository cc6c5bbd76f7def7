import { BlockList, isIP } from 'node:net';
import { matchesGlob } from './policy/conditions.js';

/**
 * Where agent callbacks may go (`callbacks.allowedHosts`). An agent names its
 * callback URL, so without a check any agent could make the bot POST to the
 * cloud metadata service or an internal admin port (server-side request
 * forgery). Nothing is allowed unless listed; internal addresses only when the
 * address itself (or its CIDR) is listed, never through a host name, since a
 * name can resolve anywhere (DNS rebinding).
 */

type Kind = 'unspecified' | 'loopback' | 'private' | 'link-local' | 'metadata';

/** Checked in this order: the metadata address is link-local too, and the more telling name wins. */
const RANGES: Array<[Kind, Array<[string, number, 'ipv4' | 'ipv6']>]> = [
  // AWS/GCP/Azure 169.254.169.254, AWS's IPv6 fd00:ec2::254, Oracle 192.0.0.192, Alibaba 100.100.100.200.
  ['metadata', [['169.254.169.254', 32, 'ipv4'], ['fd00:ec2::254', 128, 'ipv6'], ['192.0.0.192', 32, 'ipv4'], ['100.100.100.200', 32, 'ipv4']]],
  ['loopback', [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]],
  // 0.0.0.0/8 reaches the host itself on Linux; ::/96 holds `::` and the old IPv4-compatible forms.
  ['unspecified', [['0.0.0.0', 8, 'ipv4'], ['::', 96, 'ipv6']]],
  // RFC 1918, carrier-grade NAT (RFC 6598), IETF protocol assignments, IPv6 unique local and the old site-local.
  ['private', [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['192.0.0.0', 24, 'ipv4'], ['fc00::', 7, 'ipv6'], ['fec0::', 10, 'ipv6']]],
  ['link-local', [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]],
];

const blockLists = RANGES.map(([kind, subnets]) => {
  const list = new BlockList();
  for (const [net, prefix, type] of subnets) list.addSubnet(net, prefix, type);
  return [kind, list] as const;
});

/** Host names that mean this machine or the metadata service wherever they resolve. Subdomains of `localhost` too (RFC 6761). */
const INTERNAL_NAMES = new Set(['localhost', 'metadata', 'metadata.google.internal', 'metadata.goog']);
const isInternalName = (host: string) => INTERNAL_NAMES.has(host) || host.endsWith('.localhost');

/** `::ffff:a.b.c.d` (and its hex form) and NAT64 `64:ff9b::a.b.c.d` carry an IPv4 address: judge that one. */
function embeddedIpv4(ip: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = parseInt(m[2]!, 16);
  const lo = parseInt(m[3]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** What an internal address is (for the refusal message), or undefined for a public one. */
export function internalKind(address: string): Kind | undefined {
  const v4 = embeddedIpv4(address);
  const ip = v4 ?? address;
  const type = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
  return blockLists.find(([, list]) => list.check(ip, type))?.[0];
}

export interface CallbackHosts {
  /** Why this URL can never be called back, or undefined when it may be (its address is checked again on connecting). */
  refuseUrl(url: string): string | undefined;
  /** Why the bot must not connect to this resolved address, or undefined. */
  refuseAddress(address: string, hostname: string): string | undefined;
}

/** The URL's host as matched: lower case, without IPv6 brackets or a trailing dot. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

/**
 * `allowed` entries: host names, exact or globs (`*.agents.example.com`: `*`
 * stops at a dot, `**` does not), IP addresses (`127.0.0.1`, `::1`) and CIDR
 * ranges (`10.20.0.0/16`). Ports are not part of an entry.
 */
export function callbackHosts(allowed: readonly string[]): CallbackHosts {
  // Asked on every intake and delivery: built once per config (a reload brings a new array).
  let built = compiled.get(allowed);
  if (!built) compiled.set(allowed, (built = compile(allowed)));
  return built;
}

const compiled = new WeakMap<readonly string[], CallbackHosts>();

function compile(allowed: readonly string[]): CallbackHosts {
  const listedAddresses = new BlockList();
  const names: string[] = [];
  for (const raw of allowed) {
    const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    const [net, prefix] = entry.split('/');
    const version = isIP(net ?? '');
    if (version && prefix !== undefined) listedAddresses.addSubnet(net!, Number(prefix), version === 4 ? 'ipv4' : 'ipv6');
    else if (version) listedAddresses.addAddress(net!, version === 4 ? 'ipv4' : 'ipv6');
    else names.push(entry.replace(/\.$/, ''));
  }
  const isListedAddress = (ip: string) => {
    const v4 = embeddedIpv4(ip);
    if (v4 && listedAddresses.check(v4, 'ipv4')) return true;
    return listedAddresses.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6');
  };
  const hint = 'list it in callbacks.allowedHosts to allow it';
  const refuseAddress = (address: string, hostname: string) => {
    const kind = internalKind(address);
    if (!kind || isListedAddress(address)) return undefined;
    const via = hostname && hostname !== address ? ` (${hostname} resolves to it)` : '';
    return `${address} is ${kind === 'unspecified' ? 'an' : 'a'} ${kind} address${via}: ${hint}`;
  };
  return {
    refuseUrl(text) {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        return 'must be a URL';
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
      const host = hostOf(url);
      if (isIP(host)) {
        if (internalKind(host)) return refuseAddress(host, host);
        if (isListedAddress(host) || names.some((n) => matchesGlob(n, host))) return undefined;
        return `host ${host} is not in callbacks.allowedHosts`;
      }
      // An internal name only by its exact entry: a glob like `**` must not let it in.
      if (isInternalName(host)) return names.includes(host) ? undefined : `host ${host} is internal: ${hint}`;
      if (names.some((n) => matchesGlob(n, host))) return undefined;
      return `host ${host} is not in callbacks.allowedHosts`;
    },
    refuseAddress,
  };
}
