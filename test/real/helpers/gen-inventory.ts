/**
 * A deterministic generator of VALID site inventories for test/real/property.test.ts.
 *
 * Every field is varied within what schema/site.schema.json and the rules in src/validate/rules/
 * allow, with edge values on purpose: strings of each value kind (src/util/value-kinds.ts) built
 * from the kind's whole character set (the odd-but-legal characters included) up to its maximum
 * length, networks of every usable prefix with the gateway, DHCP range, node IPs and VIP at the
 * edges of the network, 1-5 nodes with several MACs in every spelling, and so on. An inventory
 * that check() rejects is a bug of this generator (the property test fails on it).
 *
 * Seeded PRNG (sfc32 seeded by splitmix32): case i of run seed S is generated from
 * caseSeed(S, i) alone, so a failing case is reproduced by S and i whatever the case count.
 */

/** Run settings: HARVGEN_PROPERTY_SEED (default fixed, so CI is deterministic) and HARVGEN_PROPERTY_CASES. */
export function propertySettings(): { seed: number; cases: number } {
  const rawSeed = process.env.HARVGEN_PROPERTY_SEED;
  const rawCases = process.env.HARVGEN_PROPERTY_CASES;
  const seed = rawSeed === undefined || rawSeed === '' ? DEFAULT_SEED : Number(rawSeed);
  const cases = rawCases === undefined || rawCases === '' ? DEFAULT_CASES : Number(rawCases);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`HARVGEN_PROPERTY_SEED must be a non-negative integer, got "${rawSeed}"`);
  if (!Number.isSafeInteger(cases) || cases < 1) throw new Error(`HARVGEN_PROPERTY_CASES must be a positive integer, got "${rawCases}"`);
  return { seed, cases };
}

/** The seed of the default run (any fixed value; change it only on purpose). */
export const DEFAULT_SEED = 20250601;
/** Cases of the default run (about 1 s of real-program time each on 2 cores). */
export const DEFAULT_CASES = 25;

// --- PRNG ------------------------------------------------------------------------------------

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** The seed of case `index` of a run: independent of how many cases the run has. */
export function caseSeed(runSeed: number, index: number): number {
  const mix = splitmix32((runSeed % 0x100000000) ^ Math.imul(index + 1, 0x27d4eb2d));
  mix();
  return mix();
}

/** A small seeded PRNG with the helpers the generator needs. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const s = splitmix32(seed >>> 0);
    this.a = s();
    this.b = s();
    this.c = s();
    this.d = s();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** sfc32. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return (this.u32() * 2 ** 21 + (this.u32() >>> 11)) / 2 ** 53;
  }

  /** Uniform integer in [lo, hi] (safe integers). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** A length in [min, max]: often an edge (min or max), else uniform, else short. */
  len(min: number, max: number): number {
    const r = this.float();
    if (r < 0.12) return min;
    if (r < 0.24) return max;
    if (r < 0.6) return this.int(min, Math.min(max, min + 12));
    return this.int(min, max);
  }

  /** `n` random characters of `chars`. */
  chars(chars: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += chars[this.int(0, chars.length - 1)];
    return s;
  }
}

// --- character sets (kept equal to src/util/value-kinds.ts and the schema patterns) -----------

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = LOWER.toUpperCase();
const DIGITS = '0123456789';
const ALNUM = LOWER + UPPER + DIGITS;
/** path kind, one segment (`/` separates). */
const PATH_SEG = ALNUM + '._~@+=:-';
/** artifactsUrl / isoUrl path characters, one segment. */
const URL_SEG = ALNUM + '._~+=,:@-';
/** serverUrl path prefix characters, one segment. */
const SERVER_SEG = ALNUM + '._~-';
/** ifname: first character, then the rest. */
const IF_FIRST = ALNUM + '_';
const IF_REST = ALNUM + '_.@+-';
/** kernelArg: first character, then the rest. */
const KARG_REST = ALNUM + '_.,:;=/+@%~[]-';
const LABEL_INNER = ALNUM + '-';

/** Odd-but-legal showcase values, each using every special character of its kind. */
export const SHOWCASE = {
  path: '/a.b_c~d@e+f=g:h-i/',
  urlPath: '/a.b_c~d+e=f,g:h@i-j/k',
  serverPath: '/a.b_c~d-e',
  ifname: '_a.b@c+d-e12345',
  ifnameGlob: '_a.b@c+d-e12345*',
  kernelArg: 'a;b=c,d:e/f+g@h%i~j[k]l-m',
} as const;

// --- small value generators -------------------------------------------------------------------

/** A string that starts with one of `first` and continues with `rest`, length exactly n (n >= 1). */
function token(rng: Rng, first: string, rest: string, n: number): string {
  return rng.chars(first, 1) + rng.chars(rest, n - 1);
}

/** A DNS label (`[A-Za-z0-9]`, inner hyphens), n characters; `letter` forces a letter in it. */
function dnsLabel(rng: Rng, n: number, letter = false): string {
  let s = n === 1 ? rng.chars(ALNUM, 1) : rng.chars(ALNUM, 1) + rng.chars(LABEL_INNER, n - 2) + rng.chars(ALNUM, 1);
  if (letter && !/[A-Za-z]/.test(s)) {
    const i = rng.int(0, n - 1);
    s = s.slice(0, i) + rng.chars(LOWER + UPPER, 1) + s.slice(i + 1);
  }
  return s;
}

/** A DNS name of the dnsName kind, at most maxLen characters (last label has a letter). */
export function dnsName(rng: Rng, maxLen: number): string {
  const labels: string[] = [];
  const shape = rng.float();
  if (shape < 0.15) {
    // Many short labels.
    const n = rng.int(8, 30);
    for (let i = 0; i < n; i++) labels.push(dnsLabel(rng, rng.int(1, 3)));
  } else if (shape < 0.3) {
    // 63-character labels.
    const n = rng.int(1, 4);
    for (let i = 0; i < n; i++) labels.push(dnsLabel(rng, 63));
  } else {
    const n = rng.int(1, 5);
    for (let i = 0; i < n; i++) labels.push(dnsLabel(rng, rng.int(1, 12)));
  }
  // Trim to maxLen from the front, keeping at least one label.
  while (labels.length > 1 && labels.join('.').length > maxLen) labels.shift();
  if (labels.join('.').length > maxLen) labels[0] = labels[0]!.slice(0, maxLen).replace(/-+$/, '') || 'a';
  const last = labels.length - 1;
  if (!/[A-Za-z]/.test(labels[last]!)) labels[last] = dnsLabel(rng, Math.max(1, Math.min(labels[last]!.length, 63)), true);
  // dnsLabel may have replaced an edge character: keep the label rule (no leading/trailing hyphen).
  return labels.map((l) => l.replace(/^-/, 'a').replace(/-$/, 'z')).join('.');
}

/** An absolute path of the path kind, at most maxLen characters. */
export function absPath(rng: Rng, maxLen = 512): string {
  const r = rng.float();
  if (r < 0.08) return '/';
  if (r < 0.2) return SHOWCASE.path;
  if (r < 0.3) return rng.pick(['/var/lib/tftpboot', '/srv/harvgen/x', '/var/log/nginx/h.log', '/var/lib/libvirt/images']);
  const target = r < 0.38 ? maxLen : rng.int(2, Math.min(maxLen, 80));
  let p = '';
  while (p.length < target) {
    const sep = rng.chance(0.08) ? '//' : '/'; // `//` is fine in a file path
    p += sep + rng.chars(PATH_SEG, rng.int(0, Math.min(40, target)));
  }
  p = p.slice(0, target);
  if (rng.chance(0.2) && p.length < maxLen) p += '/';
  return p;
}

/** A URL path (artifactsUrl/isoUrl): segments of URL_SEG (never empty, `.` or `..`); '' and '/' allowed. */
function urlPath(rng: Rng, maxLen: number): string {
  const r = rng.float();
  if (maxLen <= 0 || r < 0.08) return '';
  if (r < 0.25 && SHOWCASE.urlPath.length <= maxLen) return SHOWCASE.urlPath;
  if (r < 0.3) return rng.pick(['/', '/a/..b/.c', '/x/y/']);
  const target = r < 0.4 ? maxLen : rng.int(2, Math.max(2, Math.min(maxLen, 60)));
  let p = '';
  while (p.length < target - 1) {
    let seg = rng.chars(URL_SEG, rng.int(1, 30));
    if (seg === '.' || seg === '..') seg = 'x';
    p += '/' + seg;
  }
  p = p.slice(0, target).replace(/\/(\.\.?)?$/, '/z');
  return p;
}

/** An IPv4 dotted quad of a 32-bit number. */
export function ipv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** A random IPv4 address; sometimes an edge one. */
function anyIpv4(rng: Rng): string {
  if (rng.chance(0.15)) return rng.pick(['0.0.0.0', '255.255.255.255', '1.1.1.1', '127.0.0.1', '9.9.9.9', '100.64.0.1']);
  return ipv4(rng.u32());
}

/** A port 1-65535, edges often. */
function port(rng: Rng): number {
  return rng.chance(0.3) ? rng.pick([1, 80, 8080, 65535]) : rng.int(1, 65535);
}

/** A unicast MAC (48-bit number, first octet even). */
function macNumber(rng: Rng): number {
  const r = rng.float();
  if (r < 0.04) return 0; // 00:00:00:00:00:00
  if (r < 0.08) return 0xfeffffffffff;
  const hi = rng.int(0, 0xffff) & 0xfeff; // clear the multicast bit of the first octet
  return hi * 2 ** 32 + rng.u32();
}

/** A MAC in one of the spellings normalizeMac accepts. */
function spellMac(rng: Rng, n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  const cased = rng.pick(['lower', 'upper', 'mixed'] as const);
  const h =
    cased === 'lower' ? hex : cased === 'upper' ? hex.toUpperCase() : [...hex].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join('');
  const pairs = h.match(/../g)!;
  switch (rng.int(0, 3)) {
    case 0:
      return pairs.join(':');
    case 1:
      return pairs.join('-');
    case 2:
      return h.match(/..../g)!.join('.');
    default:
      return h;
  }
}

function normMac(n: number): string {
  return n.toString(16).padStart(12, '0').match(/../g)!.join(':');
}

/** A kernel argument of the kernelArg kind, not a reserved key, at most maxLen characters. */
function kernelArg(rng: Rng, maxLen: number): string | undefined {
  if (maxLen < 1) return undefined;
  const r = rng.float();
  let a: string;
  if (r < 0.25 && SHOWCASE.kernelArg.length <= maxLen) a = SHOWCASE.kernelArg;
  else if (r < 0.45) a = rng.pick(['nomodeset', 'quiet', 'console_msg_format=syslog', 'mitigations=off', 'rd.debug', 'pci=noaer', 'x']);
  else a = token(rng, ALNUM, KARG_REST, rng.len(1, Math.min(maxLen, 120)));
  a = a.slice(0, maxLen);
  const key = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
  // Reserved (src/derive/kernel-args.ts): harvgen writes these itself.
  const reserved = ['ip', 'BOOTIF', 'vlan', 'nameserver', 'root', 'initrd', 'rd.net.dhcp.retry'];
  if (reserved.includes(key) || key.startsWith('harvester.')) return 'z' + a.slice(1);
  return a;
}

/** A list of kernel arguments whose joined length (with spaces) stays within budget. */
function kernelArgs(rng: Rng, budget: number, maxCount: number): string[] {
  const out: string[] = [];
  let used = 0;
  const n = rng.int(1, maxCount);
  for (let i = 0; i < n; i++) {
    const room = budget - used - 1;
    const a = kernelArg(rng, Math.min(room, 1024));
    if (!a) break;
    out.push(a);
    used += a.length + 1;
  }
  return out;
}

/** A value of the ifname kind (1-15 characters). */
function ifname(rng: Rng): string {
  const r = rng.float();
  if (r < 0.2) return SHOWCASE.ifname;
  if (r < 0.45) return rng.pick(['eno1', 'enp1s0', 'enp2s0', 'eth0', 'ens3', 'bond0']);
  return token(rng, IF_FIRST, IF_REST, rng.len(1, 15));
}

/** A DNS-1123 label (hostname), n characters. */
function hostLabel(rng: Rng, n: number): string {
  const chars = LOWER + DIGITS;
  if (n === 1) return rng.chars(chars, 1);
  return rng.chars(chars, 1) + rng.chars(chars + '-', n - 2) + rng.chars(chars, 1);
}

// --- networks ---------------------------------------------------------------------------------

interface Net {
  address: number;
  prefix: number;
  size: number;
  broadcast: number;
}

function net(address: number, prefix: number): Net {
  const size = 2 ** (32 - prefix);
  const a = address - (address % size);
  return { address: a, prefix, size, broadcast: a + size - 1 };
}

function overlaps(a: Net, b: Net): boolean {
  return a.address <= b.broadcast && b.address <= a.broadcast;
}

const cidr = (n: Net) => `${ipv4(n.address)}/${n.prefix}`;

/** A network of the given prefix somewhere in IPv4 space (private ranges most of the time). */
function someNetwork(rng: Rng, prefix: number): Net {
  const r = rng.float();
  let base: number;
  if (r < 0.3) base = 10 * 2 ** 24 + rng.int(0, 2 ** 24 - 1);
  else if (r < 0.5) base = (172 * 256 + 16) * 2 ** 16 + rng.int(0, 2 ** 20 - 1);
  else if (r < 0.7) base = (192 * 256 + 168) * 2 ** 16 + rng.int(0, 2 ** 16 - 1);
  else if (r < 0.9) base = rng.int(1, 223) * 2 ** 24 + rng.int(0, 2 ** 24 - 1);
  else base = rng.u32(); // anywhere, edges of the address space included
  return net(base, prefix);
}

/**
 * `count` distinct host offsets (1..size-2) outside `taken` and the range [lo, hi], sampled from
 * the free intervals (so a range that fills almost the whole network still leaves its few
 * addresses findable); the first and last free addresses are taken on purpose sometimes.
 */
function pickHosts(rng: Rng, n: Net, count: number, taken: Set<number>, lo: number, hi: number): number[] {
  let intervals: [number, number][] = [
    [1, lo - 1],
    [hi + 1, n.size - 2],
  ];
  for (const t of taken)
    intervals = intervals.flatMap(([a, b]): [number, number][] =>
      t < a || t > b
        ? [[a, b]]
        : [
            [a, t - 1],
            [t + 1, b],
          ],
    );
  intervals = intervals.filter(([a, b]) => b >= a);
  const total = intervals.reduce((s, [a, b]) => s + b - a + 1, 0);
  if (total < count) throw new Error(`generator: no room for ${count} addresses in ${cidr(n)}`);
  const at = (i: number): number => {
    for (const [a, b] of intervals) {
      if (i <= b - a) return a + i;
      i -= b - a + 1;
    }
    throw new Error('generator: index out of range');
  };
  const out = new Set<number>();
  if (rng.chance(0.3)) out.add(at(total - 1));
  if (out.size < count && rng.chance(0.3)) out.add(at(0));
  while (out.size < count) out.add(at(rng.int(0, total - 1)));
  for (const o of out) taken.add(o);
  return [...out];
}

// --- the inventory ----------------------------------------------------------------------------

/** A generated inventory (site.yaml as an object) and what it exercises. */
export interface GeneratedSite {
  index: number;
  seed: number;
  doc: Record<string, unknown>;
  /** Short tags of the notable choices (for the failure message). */
  tags: string[];
}

const BOND_MODES = ['balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb'];

/** Generate case `index` of run `runSeed`. */
export function generateSite(runSeed: number, index: number): GeneratedSite {
  const seed = caseSeed(runSeed, index);
  const rng = new Rng(seed);
  const tags: string[] = [];
  const doc: Record<string, unknown> = {};

  // site ------------------------------------------------------------------------------------
  const siteLen = rng.len(1, 63);
  const site =
    siteLen === 1
      ? rng.chars(LOWER + DIGITS, 1)
      : rng.chars(LOWER + DIGITS, 1) + rng.chars(LOWER + DIGITS + '_-', siteLen - 2) + rng.chars(LOWER + DIGITS, 1);
  doc.site = site;
  if (rng.chance(0.5)) doc.description = rng.pick(['', 'Lab: "quoted" # not a comment', 'Ünïcödé ✓ site', 'a\tb', '{[*&!|>%@`']);

  // harvester version -------------------------------------------------------------------------
  const minor = rng.int(2, 9);
  const patch = rng.chance(0.2) ? rng.pick([0, 99]) : rng.int(0, 5);
  const version = `v1.${minor}.${patch}${rng.chance(0.15) ? `-rc${rng.int(0, 12)}` : ''}`;
  tags.push(version);
  const atLeast = (m: number) => minor >= m;

  // boot server --------------------------------------------------------------------------------
  let host: string;
  let hostIsIp = false;
  const serverHostKind = rng.float();
  // The network decides the usual boot server address below; a name or a foreign IP sometimes.
  const pendingHost = serverHostKind < 0.6 ? 'in-network' : serverHostKind < 0.8 ? 'name' : 'foreign-ip';
  const serverPort = rng.chance(0.5) ? undefined : port(rng);
  let serverPath = '';
  if (rng.chance(0.5)) {
    if (rng.chance(0.3)) serverPath = SHOWCASE.serverPath;
    else {
      const segs = rng.int(1, 4);
      for (let i = 0; i < segs; i++) serverPath += '/' + rng.chars(SERVER_SEG, rng.len(1, 20));
      // Rarely a very long prefix (the serverUrl kind allows 512 characters in all).
      if (rng.chance(0.08)) while (serverPath.length < 300) serverPath += '/' + rng.chars(SERVER_SEG, rng.int(1, 60));
    }
  }
  const serverSlash = rng.chance(0.3) ? '/' : '';

  // network --------------------------------------------------------------------------------------
  const nNodes = rng.chance(0.2) ? rng.pick([1, 5]) : rng.int(1, 5);
  const statics = Array.from({ length: nNodes }, () => rng.chance(0.4));
  const withIp = statics.map((s) => s || rng.chance(0.6));
  const ipCount = withIp.filter(Boolean).length;
  // Hosts needed: gateway + VIP + node IPs + at least one DHCP address; /30 never fits (VIP).
  const minPrefix = 8;
  let maxPrefix = 29;
  while (maxPrefix > minPrefix && 2 ** (32 - maxPrefix) - 2 < ipCount + 3) maxPrefix--;
  const prefix = rng.chance(0.3) ? rng.pick([minPrefix, maxPrefix, 16, 24]) : rng.int(minPrefix, maxPrefix);
  tags.push(`/${prefix}`);

  // Pod/service networks (custom only from v1.5); the management network must avoid them.
  let pod = net(10 * 2 ** 24 + 52 * 2 ** 16, 16);
  let service = net(10 * 2 ** 24 + 53 * 2 ** 16, 16);
  let clusterDns: string | undefined;
  const customCidrs = atLeast(5) && rng.chance(0.4);
  if (customCidrs) {
    pod = someNetwork(rng, rng.int(8, 24));
    do service = someNetwork(rng, rng.int(12, 28));
    while (overlaps(pod, service));
    clusterDns = ipv4(service.address + rng.int(0, service.size - 1));
  }
  let mgmt: Net;
  let guard = 0;
  do mgmt = someNetwork(rng, prefix);
  while ((overlaps(mgmt, pod) || overlaps(mgmt, service)) && guard++ < 1000);
  if (overlaps(mgmt, pod) || overlaps(mgmt, service)) throw new Error('generator: no management network found');
  tags.push(cidr(mgmt));

  const hosts = mgmt.size - 2;
  const taken = new Set<number>();
  const gwEdge = rng.float();
  const gw = gwEdge < 0.3 ? 1 : gwEdge < 0.5 ? hosts : rng.int(1, hosts);
  taken.add(gw);
  const need = ipCount + 1;
  // DHCP range [lo, hi] on one side of the gateway, leaving `need` free host addresses.
  const maxRange = hosts - 1 - need;
  const sideMax = Math.max(gw - 1, hosts - gw);
  const rangeLen = Math.min(
    sideMax,
    Math.max(1, rng.chance(0.2) ? maxRange : rng.chance(0.2) ? 1 : rng.int(1, Math.max(1, Math.min(maxRange, 5000)))),
  );
  const sides = (
    [
      [1, gw - 1],
      [gw + 1, hosts],
    ] as [number, number][]
  ).filter(([a, b]) => b - a + 1 >= rangeLen);
  const [sa, sb] = rng.pick(sides);
  const at = rng.float();
  const lo = at < 0.3 ? sa : at < 0.6 ? sb - rangeLen + 1 : rng.int(sa, sb - rangeLen + 1);
  // libvirt refuses a range that crosses a /16 boundary: end it within the /16 of its start.
  const end16 = (Math.floor((mgmt.address + lo) / 65536) + 1) * 65536 - 1 - mgmt.address;
  const hi = Math.min(lo + rangeLen - 1, end16);
  const [vipOff, ...nodeOffs] = rng.shuffle(pickHosts(rng, mgmt, need, taken, lo, hi));
  const at4 = (o: number) => ipv4(mgmt.address + o);
  const gateway = at4(gw);
  const vip = at4(vipOff!);

  if (pendingHost === 'in-network') {
    // Usually the gateway (a libvirt host); else any address of the network.
    host = rng.chance(0.6) ? gateway : at4(rng.int(1, hosts));
    hostIsIp = true;
  } else if (pendingHost === 'foreign-ip') {
    host = anyIpv4(rng);
    hostIsIp = true;
  } else host = dnsName(rng, 120);
  const server = `http://${host}${serverPort !== undefined ? `:${serverPort}` : ''}${serverPath}${serverSlash}`;
  tags.push(hostIsIp ? 'server-ip' : 'server-name');

  // Many DNS servers (a long dnsmasq line) only when no node is static: a static node puts each
  // on its kernel command line, which has a length limit.
  const anyStatic = statics.some(Boolean);
  const dnsCount = !anyStatic && rng.chance(0.08) ? 8 : rng.int(1, 3); // network.dns holds at most 8
  const dns = Array.from({ length: dnsCount }, () => (rng.chance(0.4) ? gateway : anyIpv4(rng)));
  const network: Record<string, unknown> = {
    cidr: cidr(mgmt),
    gateway,
    dns,
    dhcp_range: `${at4(lo)}${rng.pick(['-', ' - ', '-'])}${at4(hi)}`,
  };
  if (rng.chance(0.5)) network.domain = dnsName(rng, 253);

  // boot -------------------------------------------------------------------------------------------
  const boot: Record<string, unknown> = { server };
  const firmware = rng.pick(atLeast(8) ? (['uefi', undefined] as const) : (['uefi', 'bios', undefined] as const));
  if (firmware) boot.firmware = firmware;
  tags.push(firmware ?? 'uefi-default');
  if (rng.chance(0.5)) boot.uefi_loader = rng.pick(['ipxe.efi', 'snponly.efi']);
  const consoles = rng.chance(0.5)
    ? undefined
    : Array.from({ length: rng.int(1, 3) }, () =>
        rng.pick(['tty1', 'ttyS0,115200n8', 'ttyS1,9600', 'hvc0', 'ttyAMA0,115200e7r', 'tty0', `x${rng.chars(ALNUM, rng.int(0, 8))},1o`]),
      );
  if (consoles) boot.console = consoles;
  // Always on (the draws are kept, so the other cases stay as they were): lab VMs fail the
  // installer's preflight checks without it (INSTALLER_PREFLIGHT_FAILS).
  if (rng.chance(0.5)) rng.chance(0.5);
  boot.skipchecks = true;
  if (rng.chance(0.5)) boot.retries = rng.pick([1, 20, rng.int(1, 20)]);
  if (rng.chance(0.5)) boot.retry_delay = rng.pick([1, 300, rng.int(1, 300)]);
  if (rng.chance(0.5)) boot.dhcp_retry = rng.pick([1, 100, rng.int(1, 100)]);

  // Kernel command line budget (x86: 2047 bytes): an upper bound of what harvgen writes itself.
  const nodeDnsMax = 3;
  const fixed =
    540 +
    server.length +
    version.length +
    (consoles ?? ['tty1']).reduce((n, c) => n + c.length + 9, 0) +
    (anyStatic ? Math.max(dns.length, nodeDnsMax) * 28 : 0);
  const artifactsMax = Math.min(1024, 2047 - fixed - 120);

  // artifacts URL: on the boot server (served by nginx) or elsewhere.
  const serverOrigin = `http://${host}${serverPort !== undefined ? `:${serverPort}` : ''}`;
  let artifacts: string;
  const artKind = rng.float();
  if (artKind < 0.5) {
    const under = rng.chance(0.5) ? serverPath : '';
    const base = `${serverOrigin}${under}`;
    artifacts = base + urlPath(rng, artifactsMax - base.length);
    tags.push('artifacts-on-server');
  } else {
    const scheme = rng.pick(['http', 'https']);
    const h = rng.chance(0.5) ? anyIpv4(rng) : dnsName(rng, 100);
    const base = `${scheme}://${h}${rng.chance(0.4) ? `:${port(rng)}` : ''}`;
    artifacts = base + urlPath(rng, artifactsMax - base.length);
    tags.push('artifacts-elsewhere');
  }
  const harvester: Record<string, unknown> = { version, artifacts };
  if (rng.chance(0.3)) {
    const scheme = rng.pick(['http', 'https', 'ftp', 'tftp']);
    const h = rng.chance(0.5) ? anyIpv4(rng) : dnsName(rng, 100);
    harvester.iso_url = `${scheme}://${h}${rng.chance(0.3) ? `:${port(rng)}` : ''}${urlPath(rng, 400)}`;
  }
  doc.harvester = harvester;
  doc.boot = boot;
  doc.network = network;

  const artifactsBase = artifacts.replace(/\/+$/, '');
  let argBudget = 2047 - fixed - artifactsBase.length - 10;
  if (rng.chance(0.5)) {
    const share = rng.chance(0.5) ? argBudget : Math.floor(argBudget / 2);
    const args = kernelArgs(rng, share, 4);
    boot.kernel_args = args;
    argBudget -= args.join(' ').length + 1;
  }

  // cluster ----------------------------------------------------------------------------------------
  const cluster: Record<string, unknown> = { vip };
  const usedMacs = new Set<string>();
  const newMac = (): number => {
    for (;;) {
      const m = macNumber(rng);
      const k = normMac(m);
      if (!usedMacs.has(k)) {
        usedMacs.add(k);
        return m;
      }
    }
  };
  if (rng.chance(0.3)) {
    cluster.vip_mode = 'dhcp';
    cluster.vip_hw_addr = spellMac(rng, newMac());
    tags.push('vip-dhcp');
  } else if (rng.chance(0.3)) cluster.vip_mode = 'static';
  const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
  cluster.token = rng.chance(0.3) ? rng.chars(PRINTABLE, rng.len(1, 200)) : `tok-${rng.chars(ALNUM, 12)}`;
  const cred = rng.int(0, 2);
  if (cred !== 1) {
    cluster.password = rng.chance(0.3)
      ? `$6$${rng.chars(ALNUM + './', rng.int(1, 16))}$${rng.chars(ALNUM + './', 86)}`
      : rng.chars(ALNUM, 1) + rng.chars(PRINTABLE + 'äß✓', rng.int(0, 40));
  }
  if (cred !== 0) {
    cluster.ssh_authorized_keys = Array.from({ length: rng.int(1, 3) }, () =>
      rng.chance(0.3) ? `github:${rng.chars(ALNUM, 8)}` : `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${rng.chars(ALNUM + '+/', 43)} user@host`,
    );
  }
  if (rng.chance(0.5)) cluster.ntp = Array.from({ length: rng.int(1, 3) }, () => (rng.chance(0.5) ? anyIpv4(rng) : dnsName(rng, 60)));
  if (customCidrs) {
    cluster.pod_cidr = cidr(pod);
    cluster.service_cidr = cidr(service);
    cluster.cluster_dns = clusterDns;
    tags.push('custom-cidrs');
  } else if (atLeast(5) && rng.chance(0.3)) cluster.cluster_dns = '10.53.0.10';
  if (atLeast(6) && rng.chance(0.5))
    cluster.sans = Array.from({ length: rng.int(1, 3) }, () => (rng.chance(0.5) ? anyIpv4(rng) : dnsName(rng, 100)));
  doc.cluster = cluster;

  // nodes ------------------------------------------------------------------------------------------
  const defaults: Record<string, unknown> = {};
  const hostnames = new Set<string>();
  const newHostname = (): string => {
    for (;;) {
      const r = rng.float();
      const h =
        r < 0.1
          ? hostLabel(rng, 63)
          : r < 0.2
            ? hostLabel(rng, 1)
            : r < 0.3
              ? `${rng.chars(DIGITS, rng.int(1, 4))}x`
              : r < 0.36
                ? rng.pick(['ignored', 'infinity', `${rng.int(1, 999)}${rng.pick(['s', 'm', 'h', 'd', 'w'])}x`])
                : `hv-${hostLabel(rng, rng.int(1, 8))}`;
      // dnsmasq reads these as a keyword or a lease time in dhcp-host: check refuses them.
      if (/^(ignore|infinite|[0-9]+[smhdw]?)$/.test(h)) continue;
      if (!hostnames.has(h)) {
        hostnames.add(h);
        return h;
      }
    }
  };
  const roleStyle = rng.pick(['implicit', 'explicit', 'explicit-all'] as const);
  const creator = roleStyle === 'implicit' ? 0 : rng.int(0, nNodes - 1);
  const harvesterRoles = atLeast(3) ? ['default', 'management', 'worker', 'witness'] : [];
  const nodeRoles = Array.from({ length: nNodes }, () => (harvesterRoles.length && rng.chance(0.4) ? rng.pick(harvesterRoles) : undefined));
  if (harvesterRoles.length && rng.chance(0.2)) defaults.harvester_role = rng.pick(harvesterRoles.filter((r) => r !== 'witness'));
  const anyWitness = nodeRoles.includes('witness');

  // Disk settings: in defaults or per node; never data disk settings for a witness.
  // Install, data and wiped disks come from disjoint name sets, so merging defaults and node
  // settings can never make the data disk the install disk.
  const device = () =>
    rng.pick([
      '/dev/vda',
      '/dev/sda',
      '/dev/nvme0n1',
      `/dev/disk/by-id/${rng.chars(ALNUM + '_-', rng.int(1, 40))}`,
      `/dev/disk/by-path/pci-0000:00:${rng.int(10, 99)}.0-scsi-0:0:0:0`,
    ]);
  const dataDisk = () => rng.pick(['/dev/vdb', '/dev/sdb', `/dev/disk/by-id/data-${rng.chars(ALNUM, rng.int(1, 20))}`]);
  const install = (witness: boolean): Record<string, unknown> => {
    const i: Record<string, unknown> = {};
    i.device = device();
    if (!witness && rng.chance(0.3)) i.data_disk = dataDisk();
    if (rng.chance(0.4)) i.tty = rng.pick(['tty1', 'ttyS0,115200n8', 'ttyS1', 'hvc0']);
    // Sizes the installer takes on a 250 GiB disk (150Gi to 176Gi: INSTALLER_PARTITION_SIZE), drawn as before.
    if (!witness && rng.chance(0.3)) {
      const n = rng.pick([0, 1, 150, 999999]);
      i.persistent_partition_size = rng.pick(['Mi', 'Gi']) === 'Mi' ? `${153600 + (n % 1000)}Mi` : `${n === 150 ? 150 : 160}Gi`;
    }
    if (atLeast(5) && rng.chance(0.3)) i.wipe_all_disks = rng.chance(0.5);
    if (atLeast(5) && rng.chance(0.3)) {
      const list: string[] = [];
      for (let k = rng.int(1, 3); k > 0; k--) {
        list.push(`/dev/disk/by-id/wipe-${rng.chars(ALNUM, 6)}`);
      }
      i.wipe_disks_list = list;
    }
    if (rng.chance(0.3)) i.power_off = rng.chance(0.5);
    return i;
  };
  const devicesInDefaults = rng.chance(0.5);
  if (devicesInDefaults) {
    const d = install(anyWitness);
    defaults.install = d;
  }

  const linkSettings = (target: Record<string, unknown>) => {
    if (rng.chance(0.3)) target.mtu = rng.pick([576, 1500, 9000, rng.int(576, 9000)]);
    if (rng.chance(0.3)) target.vlan = rng.pick([1, 2, 4094, rng.int(1, 4094)]);
    if (rng.chance(0.3)) {
      const bond: Record<string, unknown> = {};
      if (rng.chance(0.7)) bond.mode = rng.pick(BOND_MODES);
      if (rng.chance(0.5)) bond.miimon = rng.pick([0, 100, rng.int(0, 100000)]);
      if (rng.chance(0.4)) bond.xmit_hash_policy = rng.pick(['layer2', 'layer3+4', 'encap2+3']);
      if (rng.chance(0.3)) bond.lacp_rate = rng.pick(['fast', 'slow', 1]);
      target.bond = bond;
    }
    if (rng.chance(0.3)) target.state = rng.pick(['install', 'local', 'install-once']);
  };
  const labSettings = (): Record<string, unknown> => {
    const lab: Record<string, unknown> = {};
    if (rng.chance(0.6))
      lab.memory_mib = rng.chance(0.05)
        ? 16777216 // the schema's maximum (16 TiB)
        : rng.pick([8192, 16384, 1048576, rng.int(8192, 2 ** 22)]);
    if (rng.chance(0.6)) lab.vcpus = rng.pick([1, 256, rng.int(1, 256)]);
    // At least the installer's 250 GiB install disk (INSTALLER_DISK_TOO_SMALL before v1.8).
    if (rng.chance(0.5)) lab.disk_gib = Math.max(250, rng.pick([60, 100000, 1048576, rng.int(60, 4000)]));
    if (rng.chance(0.5)) lab.data_disk_gib = rng.pick([50, 100000, 1048576, rng.int(50, 4000)]);
    if (rng.chance(0.5)) lab.nic_model = rng.pick(['virtio', 'e1000e']);
    return lab;
  };
  if (rng.chance(0.4)) linkSettings(defaults);
  if (rng.chance(0.4)) defaults.lab = labSettings();
  if (rng.chance(0.2)) defaults.method = rng.pick(['dhcp', 'static']);
  const defaultsInterfaces = rng.chance(0.2);
  if (defaultsInterfaces) defaults.interfaces = [{ name: ifname(rng) }];
  if (rng.chance(0.2)) defaults.dns = Array.from({ length: rng.int(1, nodeDnsMax) }, () => anyIpv4(rng));
  if (rng.chance(0.2)) {
    const args = kernelArgs(rng, Math.floor(argBudget / 3), 2);
    defaults.kernel_args = args;
  }

  const nodes: Record<string, unknown>[] = [];
  for (let i = 0; i < nNodes; i++) {
    const node: Record<string, unknown> = { hostname: newHostname() };
    // Usually 1-4 boot MACs; rarely very many (long dnsmasq dhcp-host line, many lab NICs).
    const macCount = rng.chance(0.04) ? 32 : rng.chance(0.6) ? 1 : rng.int(2, 4); // at most 32 boot MACs
    const macs = Array.from({ length: macCount }, () => newMac());
    if (macCount === 1 && rng.chance(0.6)) node.mac = spellMac(rng, macs[0]!);
    else node.macs = macs.map((m) => spellMac(rng, m));
    if (withIp[i]) node.ip = at4(nodeOffs.shift()!);
    if (roleStyle !== 'implicit' && i === creator) node.role = 'create';
    else if (roleStyle === 'explicit-all' || (roleStyle === 'explicit' && rng.chance(0.5))) node.role = 'join';
    const hr = nodeRoles[i];
    if (hr) node.harvester_role = hr;
    const witness = hr === 'witness' || (hr === undefined && defaults.harvester_role === 'witness');
    if (!devicesInDefaults || rng.chance(0.3)) node.install = install(witness || anyWitness);
    // Method: static nodes have an ip (statics[i]); a dhcp node may still have a reservation.
    const method = statics[i] ? 'static' : 'dhcp';
    if ((defaults.method ?? 'dhcp') !== method || rng.chance(0.5)) node.method = method;
    if (statics[i]) tags.push('static');
    if (statics[i] && rng.chance(0.4)) {
      // Prefix/netmask no longer than the network's, so the network gateway stays in the node subnet.
      const p = rng.pick([1, prefix, rng.int(1, prefix)]);
      if (rng.chance(0.5)) node.prefix = p;
      else node.netmask = ipv4(2 ** 32 - 2 ** (32 - p));
    }
    if (statics[i] && rng.chance(0.2)) {
      // Another gateway inside the network (not the node's own address).
      let g = at4(rng.int(1, hosts));
      while (g === node.ip) g = at4(rng.int(1, hosts));
      node.gateway = g;
    }
    if (rng.chance(0.2)) node.dns = Array.from({ length: rng.int(1, nodeDnsMax) }, () => anyIpv4(rng));
    if (rng.chance(0.4)) linkSettings(node);
    if (rng.chance(0.4)) node.lab = labSettings();
    if (rng.chance(0.4) || (defaultsInterfaces && rng.chance(0.3))) {
      // NICs: by name, by MAC (a boot MAC or another), or both; the first often pinned to the boot MAC.
      const nics: Record<string, unknown>[] = [];
      for (let k = rng.int(1, 3); k > 0; k--) {
        const kind = rng.int(0, 2);
        const nic: Record<string, unknown> = {};
        if (kind !== 1) nic.name = ifname(rng);
        if (kind !== 0) nic.mac = spellMac(rng, rng.chance(0.6) ? rng.pick(macs) : newMac());
        nics.push(nic);
      }
      node.interfaces = nics;
    }
    if (rng.chance(0.3)) node.kernel_args = kernelArgs(rng, Math.floor(argBudget / 2) - 1, 3);
    nodes.push(node);
  }
  if (Object.keys(defaults).length > 0 || rng.chance(0.1)) doc.defaults = defaults;
  doc.nodes = nodes;
  // A tagged node's boot NIC that no interface names is called `netboot` in its installer: no
  // interface may have that name (check refuses it, NODE_VLAN_BOOT_NIC_NAME).
  type Nics = { name?: string; mac?: string }[];
  for (const list of [defaults.interfaces as Nics | undefined, ...(nodes as { interfaces?: Nics }[]).map((n) => n.interfaces)])
    for (const nic of list ?? []) if (nic.name === 'netboot') nic.name = 'netboot0';
  tags.push(`${nNodes} node(s)`);

  // lab, nginx, dnsmasq, forward -------------------------------------------------------------------
  if (rng.chance(0.6)) {
    const lab: Record<string, unknown> = {};
    const NAME = ALNUM + '_.-';
    if (rng.chance(0.5))
      // Not starting with `-` or `.` (define.sh would pass `-x` to virsh as an option).
      lab.network_name = rng.chance(0.3)
        ? rng.pick(['_', 'x.-', 'a.b_c-d', 'lab--net-', 'x'.repeat(50)])
        : firstSafe(rng.chars(NAME, rng.len(1, 50)));
    if (rng.chance(0.5))
      lab.bridge = rng.chance(0.3) ? rng.pick(['virbr1', 'br-hg_0.1', 'b'.repeat(15)]) : firstSafe(rng.chars(NAME, rng.len(1, 15)));
    if (rng.chance(0.5)) lab.disk_dir = absPath(rng);
    if (rng.chance(0.5)) lab.tftp_root = absPath(rng);
    doc.lab = lab;
  }
  if (rng.chance(0.7)) {
    const nginx: Record<string, unknown> = {};
    const lr = rng.float();
    if (lr < 0.2) nginx.listen = String(port(rng));
    else if (lr < 0.4) nginx.listen = `*:${rng.pick([65535, port(rng)])}`;
    else if (lr < 0.6) nginx.listen = `${rng.chance(0.5) ? gateway : anyIpv4(rng)}:${port(rng)}`;
    if (nginx.listen) tags.push(`listen ${String(nginx.listen)}`);
    if (rng.chance(0.5)) nginx.root = absPath(rng);
    if (rng.chance(0.5)) nginx.artifacts_dir = absPath(rng);
    if (rng.chance(0.5)) nginx.access_log = absPath(rng);
    doc.nginx = nginx;
  }
  if (rng.chance(0.7)) {
    const dnsmasq: Record<string, unknown> = {};
    if (rng.chance(0.5)) {
      const r = rng.float();
      dnsmasq.interface =
        r < 0.2
          ? SHOWCASE.ifnameGlob
          : r < 0.4
            ? SHOWCASE.ifname
            : token(rng, IF_FIRST, IF_REST, rng.len(1, 15)) + (rng.chance(0.4) ? '*' : '');
    }
    if (rng.chance(0.5)) dnsmasq.tftp_root = absPath(rng);
    if (rng.chance(0.5))
      dnsmasq.lease_time = rng.pick([
        'infinite',
        '0',
        '1',
        '12h',
        '2m',
        '1w',
        '120s',
        '3d',
        '4294967295',
        `${rng.int(1, 1000000)}${rng.pick(['', 's', 'm', 'h', 'd', 'w'])}`,
      ]);
    if (rng.chance(0.5)) dnsmasq.dns = rng.chance(0.6) ? false : true;
    if (dnsmasq.dns === false) tags.push('dnsmasq-dns-off');
    doc.dnsmasq = dnsmasq;
  }
  if (rng.chance(0.6)) {
    const forward: Record<string, unknown> = {};
    if (rng.chance(0.3)) forward.enabled = rng.chance(0.7);
    if (rng.chance(0.6)) {
      const ports = new Set<number>();
      for (let k = rng.int(1, 5); k > 0; k--) ports.add(port(rng));
      forward.ports = [...ports];
    }
    if (rng.chance(0.4)) forward.listen_address = anyIpv4(rng);
    doc.forward = forward;
  }
  // Ways into the tree and the boot lifecycle (drawn last, so the values above keep their seeds).
  const bootDoc = doc.boot as Record<string, unknown>;
  if (rng.chance(0.4)) {
    bootDoc.http_boot = rng.chance(0.8);
    if (bootDoc.http_boot) tags.push('http-boot');
  }
  const uefi = bootDoc.firmware !== 'bios';
  if (uefi && rng.chance(0.25)) {
    const sb: Record<string, unknown> = {};
    if (rng.chance(0.5))
      sb.shim = rng.pick(['shimx64.efi', 'ipxe-shimx64.efi', `${firstAlnum(rng.chars(ALNUM + '._-', rng.len(1, 40)))}.efi`]);
    if (rng.chance(0.5)) sb.loader = rng.pick(['grubx64.efi', 'ipxe.efi', 'x.efi']);
    // The installer kernel's shim comes out of the release ISO kept for this nginx: Secure Boot
    // needs the release files on the boot server (BOOT_SECURE_BOOT_INVALID otherwise).
    const onServer = tags.includes('artifacts-on-server');
    if (onServer && (sb.shim === undefined || sb.shim !== (sb.loader ?? bootDoc.uefi_loader ?? 'snponly.efi'))) {
      bootDoc.secure_boot = sb;
      tags.push('secure-boot');
    }
  }
  if (rng.chance(0.3)) {
    bootDoc.installed_marker = {
      volume: rng.pick(['COS_GRUB', 'EFI', '_x-1', firstAlnum(rng.chars(ALNUM + '_-', rng.len(1, 11)))]),
      file: rng.pick(['/EFI/BOOT/bootx64.efi', '/a', `/${firstAlnum(rng.chars(ALNUM + '._-', rng.len(1, 64)))}`]),
    };
  }
  // `join` needs an install device and a NIC name in defaults (BOOT_UNKNOWN_JOIN_INCOMPLETE).
  const defaultsDoc = (doc.defaults ?? {}) as { install?: { device?: string }; interfaces?: { name?: string }[] };
  const canJoin = defaultsDoc.install?.device !== undefined && (defaultsDoc.interfaces ?? []).some((n) => n.name !== undefined);
  if (rng.chance(0.4)) {
    bootDoc.unknown = rng.pick(canJoin ? ['wait', 'local', 'join'] : ['wait', 'local']);
    tags.push(`unknown ${String(bootDoc.unknown)}`);
  }
  // Generic OS and iSCSI nodes beside the cluster (drawn last as well).
  if (rng.chance(0.35)) {
    const name = rng.pick(['rocky9', 'p', firstAlnum(rng.chars(LOWER + DIGITS + '_-', rng.len(1, 20))).replace(/[_-]+$/, '') || 'p']);
    const profile: Record<string, unknown> = {
      kernel: `${serverOrigin}/os/${name}/vmlinuz`,
      initrds: Array.from({ length: rng.int(1, 3) }, (_, i) => `${serverOrigin}/os/${name}/initrd${i}.img`),
    };
    const params = kernelArgs(rng, 300, 4).filter((a) => !/^(BOOTIF|initrd|ds|root)(=|$)/.test(a));
    if (params.length) profile.params = params;
    if (rng.chance(0.4)) profile.root = rng.pick([`live:${serverOrigin}/os/${name}/squashfs.img`, 'nfs:10.0.0.1:/export/root', '/dev/nfs']);
    if (rng.chance(0.2)) profile.cloud_init = false;
    doc.os_profiles = { [name]: profile };
    for (let k = rng.int(1, 2); k > 0; k--) {
      const node: Record<string, unknown> = { hostname: newHostname(), mac: spellMac(rng, newMac()), os: name, method: 'dhcp' };
      if (rng.chance(0.6))
        node.cloud_init = {
          user_data: { runcmd: [['echo', rng.chars(PRINTABLE, rng.int(0, 40))]], hostname: node.hostname },
          ...(rng.chance(0.5) ? { meta_data: { [`k-${rng.chars(LOWER, 5)}`]: rng.chars(PRINTABLE, rng.int(0, 30)) } } : {}),
        };
      if (rng.chance(0.3)) node.arch = 'arm64';
      nodes.push(node);
    }
    tags.push('generic-os');
  }
  if (rng.chance(0.25)) {
    nodes.push({
      hostname: newHostname(),
      mac: spellMac(rng, newMac()),
      method: 'dhcp',
      iscsi: {
        server: gateway,
        target: `iqn.2026-11.dev.harvgen:${rng.chars(LOWER + DIGITS + '.-', rng.len(1, 40))}`,
        ...(rng.chance(0.5) ? { lun: rng.int(0, 255), port: port(rng) } : {}),
      },
    });
    tags.push('iscsi');
  }
  // The create node installs once when another node keeps its install, so no reinstall of it makes
  // a second cluster (CLUSTER_CREATE_NODE_REINSTALL).
  const harvesterNodes = nodes.filter((n) => n.os === undefined && n.iscsi === undefined);
  const creatorNode = harvesterNodes.find((n) => n.role === 'create') ?? harvesterNodes[0];
  const stateOf = (n: Record<string, unknown>) => n.state ?? defaults.state ?? 'install';
  if (creatorNode && stateOf(creatorNode) === 'install' && harvesterNodes.some((n) => n !== creatorNode && stateOf(n) !== 'install'))
    creatorNode.state = 'install-once';
  return { index, seed, doc, tags };
}

/** A name that starts with a letter or digit. */
function firstAlnum(name: string): string {
  return /^[A-Za-z0-9]/.test(name) ? name : `x${name.slice(1)}`;
}

/** A name whose first character is not `-` or `.` (lab network and bridge names). */
function firstSafe(name: string): string {
  return /^[-.]/.test(name) ? `x${name.slice(1)}` : name;
}
