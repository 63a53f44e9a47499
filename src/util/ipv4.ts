// IPv4 arithmetic on unsigned 32-bit integers. Only dotted quads in canonical form are
// accepted (no leading zeros, no shorthand), because dnsmasq and libvirt read other
// spellings differently (dnsmasq takes `192.168.122.300` as a host name).
import { inNetwork6, parseCidr6, parseIpv6Lenient } from './ipv6.ts';

/** Parse a dotted quad into an unsigned 32-bit number; undefined when malformed. */
export function parseIpv4(text: string): number | undefined {
  // Character by character (every node's addresses are parsed by several rules and renderers):
  // four parts of 1-3 digits, no leading zero, each at most 255.
  let value = 0;
  let parts = 0;
  let i = 0;
  while (i <= text.length) {
    const start = i;
    let n = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      n = n * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || (digits > 1 && text.charCodeAt(start) === 48) || n > 255) return undefined;
    value = value * 256 + n;
    parts++;
    if (i === text.length) break;
    if (text.charCodeAt(i) !== 46 || parts === 4) return undefined; // '.'
    i++;
  }
  return parts === 4 ? value : undefined;
}

/** Format an unsigned 32-bit number as a dotted quad. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** A parsed IPv4 network. */
export interface Ipv4Network {
  readonly address: number;
  readonly prefix: number;
  readonly netmask: number;
  readonly broadcast: number;
}

/** Netmask number for a prefix length (0-32). */
export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Prefix length of a contiguous netmask; undefined when the mask is not contiguous. */
export function maskToPrefix(mask: number): number | undefined {
  for (let p = 0; p <= 32; p++) if (prefixToMask(p) === mask) return p;
  return undefined;
}

/**
 * Parse `a.b.c.d/nn`; the address must be the network address itself (`networkCidr`: the one it
 * names, when it has host bits set).
 */
export function parseCidr(text: string): { net?: Ipv4Network; problem?: string; networkCidr?: string } {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m) return { problem: 'is not in CIDR form `a.b.c.d/prefix`' };
  const address = parseIpv4(m[1] ?? '');
  const prefix = Number(m[2]);
  if (address === undefined) return { problem: `has an invalid address "${m[1]}"` };
  if (prefix > 32) return { problem: `has a prefix length ${prefix} above 32` };
  const netmask = prefixToMask(prefix);
  const network = (address & netmask) >>> 0;
  if (network !== address) {
    const networkCidr = `${formatIpv4(network)}/${prefix}`;
    return { problem: `has host bits set (the network address is ${networkCidr})`, networkCidr };
  }
  const broadcast = (network | (~netmask >>> 0)) >>> 0;
  return { net: { address: network, prefix, netmask, broadcast } };
}

/** True when the address lies inside the network (network and broadcast included). */
export function inNetwork(ip: number, net: Ipv4Network): boolean {
  return (ip & net.netmask) >>> 0 === net.address;
}

/** True when two networks share any address. */
export function networksOverlap(a: Ipv4Network, b: Ipv4Network): boolean {
  return a.address <= b.broadcast && b.address <= a.broadcast;
}

/**
 * The fewest CIDR blocks that together hold exactly the addresses `start`..`end` (both
 * included): at each step the largest block that starts at the next address, is aligned on its
 * size and ends inside the range. Empty when the range is reversed.
 */
export function rangeToCidrs(start: number, end: number): string[] {
  const out: string[] = [];
  let next = start;
  while (next <= end) {
    // Largest power of two dividing `next` (the alignment), capped by what is left.
    let size = next === 0 ? 2 ** 32 : 2 ** Math.min(32, trailingZeros(next));
    while (size > end - next + 1) size /= 2;
    out.push(`${formatIpv4(next)}/${32 - Math.log2(size)}`);
    next += size;
  }
  return out;
}

function trailingZeros(value: number): number {
  let n = 0;
  while (n < 32 && Math.floor(value / 2 ** n) % 2 === 0) n++;
  return n;
}

/** True when `address` is among `allow` (addresses, IPv4 or IPv6 networks, or `all`). */
export function addressAllowed(address: string | undefined, allow: readonly string[]): boolean {
  if (address === undefined) return false;
  const ip = parseIpv4(address);
  const ip6 = ip === undefined ? parseIpv6Lenient(address) : undefined;
  return allow.some((a) => {
    if (a === 'all' || a === address) return true;
    if (ip6 !== undefined) {
      // IPv6: an address in another spelling, or inside a block (nginx allows both).
      const net6 = a.includes('/') ? parseCidr6(a).net : undefined;
      return net6 !== undefined ? inNetwork6(ip6, net6) : parseIpv6Lenient(a) === ip6;
    }
    if (ip === undefined || !a.includes('/')) return false;
    const net = parseCidr(a).net;
    return net !== undefined && inNetwork(ip, net);
  });
}

/**
 * The reason a network cannot hold machines ("this network", loopback, multicast, reserved), or
 * undefined.
 */
export function unusableNetwork(net: Ipv4Network): string | undefined {
  const first = net.address >>> 24;
  const last = net.broadcast >>> 24;
  if (first === 0) return 'is in 0.0.0.0/8 ("this network"), on which no machine can be';
  if (first <= 127 && last >= 127) return 'overlaps 127.0.0.0/8 (loopback)';
  if (last >= 224) return 'reaches into 224.0.0.0/3 (multicast and reserved addresses)';
  return undefined;
}

/** A DHCP pool as written, `first-last` (spaces around `-` allowed): the two addresses' texts, or undefined for any other form. */
export function splitRange(text: string): readonly [first: string, last: string] | undefined {
  const m = /^\s*([^-\s]+)\s*-\s*([^-\s]+)\s*$/.exec(text);
  return m ? [m[1]!, m[2]!] : undefined;
}
