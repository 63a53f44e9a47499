// IPv6 arithmetic on 128-bit bigints. Only the canonical text form of RFC 5952 is accepted
// (lower case, leading zeros dropped, the longest run of two or more zero groups shortened to
// `::`), so that one address has one spelling in the inventory and in every generated file
// (dnsmasq, Kea, nginx and iPXE compare them as text in places). No zone (`%eth0`), no
// embedded IPv4 (`::ffff:1.2.3.4`).

const MAX = (1n << 128n) - 1n;

/** Parse any IPv6 text (hex groups, one `::`) into a 128-bit number; undefined when malformed. */
function parseAny(text: string): bigint | undefined {
  if (text.length < 2 || text.length > 39 || !/^[0-9a-fA-F:]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): string[] | undefined => {
    if (part === '') return [];
    const g = part.split(':');
    return g.every((x) => x.length >= 1 && x.length <= 4) ? g : undefined;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const count = head.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const all = [...head, ...Array<string>(8 - count).fill('0'), ...tail];
  let value = 0n;
  for (const g of all) value = (value << 16n) | BigInt(parseInt(g, 16));
  return value;
}

/** Format a 128-bit number in RFC 5952's canonical form. */
export function formatIpv6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // The longest run of zero groups (two or more; the first of equal runs) becomes `::`.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Parse an IPv6 address in canonical form; `canonical` names the form to write when the text is valid but spelled otherwise. */
export function checkIpv6(text: string): { value?: bigint; canonical?: string } {
  const value = parseAny(text);
  if (value === undefined) return {};
  const canonical = formatIpv6(value);
  return canonical === text ? { value } : { canonical };
}

/** Parse an IPv6 address in canonical form; undefined otherwise. */
export function parseIpv6(text: string): bigint | undefined {
  return checkIpv6(text).value;
}

/** A parsed IPv6 network. */
export interface Ipv6Network {
  readonly address: bigint;
  readonly prefix: number;
  /** The last address of the network. */
  readonly last: bigint;
}

/** Parse `addr/len` (canonical address, the network address itself); `problem` says what is wrong. */
export function parseCidr6(text: string): { net?: Ipv6Network; problem?: string } {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return { problem: 'is not in CIDR form `<ipv6 address>/<prefix length>`' };
  const { value, canonical } = checkIpv6(m[1]!);
  const prefix = Number(m[2]);
  if (canonical !== undefined) return { problem: `is not written in the canonical form: write \`${canonical}/${prefix}\`` };
  if (value === undefined) return { problem: `has an invalid IPv6 address "${m[1]}"` };
  if (prefix > 128) return { problem: `has a prefix length ${prefix} above 128` };
  const hostMask = (1n << BigInt(128 - prefix)) - 1n;
  const address = value & (MAX ^ hostMask);
  if (address !== value) return { problem: `has host bits set (the network is ${formatIpv6(address)}/${prefix})` };
  return { net: { address, prefix, last: address | hostMask } };
}

/** True when the address lies inside the network. */
export function inNetwork6(ip: bigint, net: Ipv6Network): boolean {
  return ip >= net.address && ip <= net.last;
}

/** An IPv6 address in any valid spelling (canonical or not), as logs and clients write it; undefined otherwise. */
export function parseIpv6Lenient(text: string): bigint | undefined {
  return parseAny(text);
}

/** The fewest CIDR blocks that together hold exactly the addresses `start`..`end` (both included). */
export function rangeToCidrs6(start: bigint, end: bigint): string[] {
  const out: string[] = [];
  let next = start;
  while (next <= end) {
    // The largest aligned block starting at `next` that ends inside the range.
    let bits = 0;
    while (bits < 128 && ((next >> BigInt(bits)) & 1n) === 0n && next + (1n << BigInt(bits + 1)) - 1n <= end) bits++;
    out.push(`${formatIpv6(next)}/${128 - bits}`);
    next += 1n << BigInt(bits);
  }
  return out;
}

/** Addresses a node's DHCPv6 reservation holds: the /126 block around its `ip6` (one per boot stage's DHCPv6 client). */
export const RESERVATION6_PREFIX = 126;

/** The first address and the CIDR text of the /126 block that holds `ip6` (a canonical address). */
export function reservation6(ip6: string): { first: bigint; last: bigint; cidr: string } | undefined {
  const ip = parseIpv6(ip6);
  if (ip === undefined) return undefined;
  const size = 1n << BigInt(128 - RESERVATION6_PREFIX);
  const first = ip - (ip % size);
  return { first, last: first + size - 1n, cidr: `${formatIpv6(first)}/${RESERVATION6_PREFIX}` };
}
