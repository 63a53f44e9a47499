// IPv6: the address arithmetic (one canonical spelling, pools as CIDR blocks), what a site with
// network.ipv6 generates (nginx's listen lines, access by ip6, DHCPv6 in dnsmasq and Kea, iPXE's
// scripts) and what the rules refuse. The programs that read these files run them in
// test/real/ipv6.test.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { check, compileSite } from '../src/index.ts';
import { checkIpv6, formatIpv6, inNetwork6, parseCidr6, parseIpv6, parseIpv6Lenient, rangeToCidrs6 } from '../src/util/ipv6.ts';
import { addressAllowed } from '../src/util/ipv4.ts';
import { VALUE_KINDS } from '../src/util/value-kinds.ts';
import { serverAddresses } from '../src/status/origin.ts';
import { tempDir } from './helpers/tmp.ts';

test('the canonical spelling (RFC 5952) is the only one accepted, and the rule names it', () => {
  for (const [text, canonical] of [
    ['fd00:6::1', 'fd00:6::1'],
    ['FD00:6::1', 'fd00:6::1'],
    ['fd00:0006:0:0:0:0:0:1', 'fd00:6::1'],
    ['fd00:0:0:1:0:0:0:1', 'fd00:0:0:1::1'],
    ['1:0:0:1:0:0:1:1', '1::1:0:0:1:1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
  ] as const) {
    const v = parseIpv6Lenient(text);
    assert.ok(v !== undefined, text);
    assert.is(formatIpv6(v!), canonical, text);
    assert.is(parseIpv6(text) === undefined, text !== canonical, text);
    if (text !== canonical) assert.is(checkIpv6(text).canonical, canonical);
  }
  for (const bad of [
    '',
    ':',
    'fd00:::1',
    'fd00::1::2',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    'fd00::1%eth0',
    '::ffff:10.0.0.1',
    'g::1',
    '12345::1',
  ])
    assert.is(parseIpv6Lenient(bad), undefined, bad);
});

test('prefixes: canonical network address, no host bits, length at most 128', () => {
  const net = parseCidr6('fd00:6::/64').net!;
  assert.is(net.prefix, 64);
  assert.ok(inNetwork6(parseIpv6('fd00:6::ffff')!, net));
  assert.not.ok(inNetwork6(parseIpv6('fd00:7::1')!, net));
  assert.match(parseCidr6('fd00:6::1/64').problem ?? '', /host bits set \(the network is fd00:6::\/64\)/);
  assert.match(parseCidr6('fd00:6:0::/64').problem ?? '', /canonical form: write `fd00:6::\/64`/);
  assert.match(parseCidr6('fd00::/129').problem ?? '', /above 128/);
  assert.match(parseCidr6('fd00::').problem ?? '', /CIDR form/);
});

test('a DHCPv6 pool is exactly the addresses of its CIDR blocks, and IPv6 clients are matched against them', () => {
  const cases: [string, string, string[]][] = [
    ['fd00:6::1000', 'fd00:6::1fff', ['fd00:6::1000/116']],
    ['fd00:6::1', 'fd00:6::4', ['fd00:6::1/128', 'fd00:6::2/127', 'fd00:6::4/128']],
    ['fd00::', 'fd00::ffff:ffff:ffff:ffff', ['fd00::/64']],
  ];
  for (const [a, b, want] of cases) assert.equal(rangeToCidrs6(parseIpv6(a)!, parseIpv6(b)!), want, `${a}-${b}`);
  // Every start and end in a small window: the blocks hold the range and nothing else.
  for (let s = 0n; s < 20n; s++) {
    for (let e = s; e < 24n; e++) {
      const blocks = rangeToCidrs6(s, e).map((c) => parseCidr6(c).net!);
      for (let x = 0n; x < 30n; x++)
        assert.is(
          blocks.some((n) => inNetwork6(x, n)),
          x >= s && x <= e,
          `${s}-${e} at ${x}`,
        );
    }
  }
  assert.ok(addressAllowed('fd00:6::1abc', ['fd00:6::1000/116']));
  assert.ok(addressAllowed('fd00:6:0:0::61', ['fd00:6::61']), 'another spelling of the same address');
  assert.not.ok(addressAllowed('fd00:6::2000', ['fd00:6::1000/116']));
  assert.not.ok(addressAllowed('10.0.0.1', ['fd00:6::1000/116']));
  assert.not.ok(addressAllowed('fd00:6::61', ['10.0.0.0/8']));
});

/** A site directory with this inventory. */
function site(input: Record<string, unknown>): string {
  const dir = join(tempDir('ipv6'), 's');
  mkdirSync(dir);
  writeFileSync(join(dir, 'site.yaml'), stringify(input));
  return dir;
}

const PROFILE = { debian: { kernel: 'http://[fd00:6::7]/vmlinuz', initrds: ['http://[fd00:6::7]/initrd.gz'] } };
const V6_ONLY = {
  site: 'six',
  boot: { server: 'http://[fd00:6::1]' },
  network: { ipv6: { prefix: 'fd00:6::/64', dhcp_range: 'fd00:6::1000-fd00:6::1fff', dns: ['fd00:6::53'] } },
  os_profiles: PROFILE,
  nodes: [
    { hostname: 'a', mac: '52:54:00:00:00:01', ip6: 'fd00:6::11', os: 'debian' },
    { hostname: 'b', mac: '52:54:00:00:00:02', os: 'debian' },
  ],
};

/** The `allow` lines of nginx's location for `path`. */
/** The boot server itself (loopback and boot.server's address on either family): allowed every protected file first (harvgen verify there). */
const SERVER = new Set(['127.0.0.0/8', '::1', '10.0.0.1', 'fd00:6::1']);

/** The allow lines of a path's location: the boot server's own first, then (returned) its fetchers'. */
function allowOf(nginx: string, path: string): string[] {
  const start = nginx.indexOf(`location = ${path} {`);
  assert.ok(start >= 0, `no location for ${path}`);
  const block = nginx.slice(start, nginx.indexOf('\n    }', start));
  const all = [...block.matchAll(/^\s+allow (\S+);$/gm)].map((m) => m[1]!);
  const own = all.findIndex((a) => !SERVER.has(a));
  assert.ok(own >= 2 && all.slice(0, own).includes('127.0.0.0/8'), `${path}: the boot server's own allow lines first: ${all.join(' ')}`);
  return all.slice(own);
}

async function files(input: Record<string, unknown>): Promise<Map<string, string>> {
  const r = await compileSite(site(input));
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`),
    [],
  );
  return new Map((r.artifacts ?? []).map((a) => [a.path, String(a.contents)]));
}

test('an IPv6-only site: nginx listens on the IPv6 address, serves a node its seed at its ip6 (else the DHCPv6 pool), dnsmasq answers DHCPv6 only', async () => {
  const f = await files(V6_ONLY);
  const nginx = f.get('nginx/harvgen.conf')!;
  assert.match(nginx, /^ {4}listen \[fd00:6::1\]:80;$/m);
  assert.is(nginx.match(/^ {4}listen /gm)?.length, 1);
  assert.equal(allowOf(nginx, '/cloud-init/52-54-00-00-00-01/user-data'), ['fd00:6::10/126']);
  assert.equal(allowOf(nginx, '/cloud-init/52-54-00-00-00-02/user-data'), ['fd00:6::1000/116']);
  const dnsmasq = f.get('dnsmasq/harvgen.conf')!;
  assert.match(dnsmasq, /^dhcp-range=set:harvgen-six,fd00:6::1000,fd00:6::1fff,64,12h$/m);
  assert.match(dnsmasq, /^dhcp-option=tag:harvgen-six,tag:ipxe,option6:bootfile-url,http:\/\/\[fd00:6::1\]\/boot\.ipxe$/m);
  assert.match(dnsmasq, /^dhcp-option=tag:harvgen-six,tag:!ipxe,tag:efipxe6,option6:bootfile-url,tftp:\/\/\[fd00:6::1\]\/snponly\.efi$/m);
  assert.match(dnsmasq, /^dhcp-option=tag:harvgen-six,option6:dns-server,\[fd00:6::53\]$/m);
  // Advertisements with no default route through the boot server (router lifetime 0); x86-64 UEFI only.
  assert.match(dnsmasq, /^enable-ra$/m);
  assert.match(dnsmasq, /^ra-param=\*,0,0$/m);
  assert.match(dnsmasq, /^dhcp-vendorclass=set:efipxe6,enterprise:343,PXEClient:Arch:00007$/m);
  // No DHCPv4 at all: no IPv4 range, router or boot file.
  assert.not.match(dnsmasq, /^dhcp-boot=/m);
  assert.not.match(dnsmasq, /option:router/);
  assert.is(
    f.get('dnsmasq/hosts/six.a'),
    '# harvgen site six, node a. Generated by harvgen; do not edit.\n52:54:00:00:00:01,[fd00:6::10/126],a\n',
  );
  // iPXE takes an IPv6 address as configured (`dhcp` asks DHCPv4 only), and so does embed.ipxe.
  assert.match(f.get('boot.ipxe')!, /^isset \$\{ip\} \|\| isset \$\{ip6\} \|\| dhcp \|\|$/m);
  assert.match(f.get('embed.ipxe')!, /^ifconf net\$\{harvgen_n\} && goto harvgen_fetch \|\|$/m);
  assert.not.ok(f.has('kea/harvgen.json'));
});

test('dual stack: nginx listens on both families; a Harvester node is served over IPv4 only, a generic node over both', async () => {
  const f = await files({
    site: 'dual',
    harvester: { version: 'v1.6.0', artifacts: 'http://10.0.0.1/artifacts' },
    boot: { server: 'http://10.0.0.1:8080' },
    network: {
      cidr: '10.0.0.0/24',
      gateway: '10.0.0.1',
      dns: ['10.0.0.1'],
      dhcp_range: '10.0.0.100-10.0.0.199',
      ipv6: { prefix: 'fd00:6::/64', dhcp_range: 'fd00:6::1000-fd00:6::1fff', server: 'fd00:6::1' },
    },
    cluster: { vip: '10.0.0.10', token: 't.123', password: 'p.123' },
    defaults: { install: { device: '/dev/vda' } },
    os_profiles: { debian: { kernel: 'http://10.0.0.7/vmlinuz', initrds: ['http://10.0.0.7/initrd.gz'] } },
    nodes: [
      { hostname: 'h', mac: '52:54:00:00:00:01', ip: '10.0.0.11' },
      { hostname: 'g', mac: '52:54:00:00:00:02', ip: '10.0.0.12', ip6: 'fd00:6::12', os: 'debian' },
    ],
  });
  const nginx = f.get('nginx/harvgen.conf')!;
  assert.match(nginx, /^ {4}listen 10\.0\.0\.1:8080;\n {4}listen \[fd00:6::1\]:8080;$/m);
  assert.equal(allowOf(nginx, '/harvester/h.yaml'), ['10.0.0.11']);
  assert.equal(allowOf(nginx, '/cloud-init/52-54-00-00-00-02/user-data'), ['10.0.0.12', 'fd00:6::10/126']);
  const dnsmasq = f.get('dnsmasq/harvgen.conf')!;
  // The DHCPv6 boot URL keeps boot.server's port, on the server's IPv6 address.
  assert.match(dnsmasq, /option6:bootfile-url,http:\/\/\[fd00:6::1\]:8080\/boot\.ipxe$/m);
  assert.match(dnsmasq, /^dhcp-boot=tag:harvgen-dual,tag:ipxe,http:\/\/10\.0\.0\.1:8080\/boot\.ipxe$/m);
  // A name-based boot.server: nginx listens on every IPv6 address of the port too.
  const named = await files({
    ...V6_ONLY,
    boot: { server: 'http://boot.example.net' },
    network: { ipv6: { ...V6_ONLY.network.ipv6, server: 'fd00:6::1' } },
  });
  assert.match(named.get('nginx/harvgen.conf')!, /^ {4}listen 80;\n {4}listen \[::\]:80;$/m);
});

test("Kea: kea/harvgen6.json's classes and reservations on an IPv6-only network, no DHCPv4 file", async () => {
  const f = await files({
    ...V6_ONLY,
    boot: { server: 'http://[fd00:6::1]', http_boot: true },
    dhcp: { server: 'kea' },
    dnsmasq: { interface: 'eno1' },
  });
  assert.not.ok(f.has('kea/harvgen.json'));
  const kea = JSON.parse(f.get('kea/harvgen6.json')!) as { Dhcp6: Record<string, unknown> };
  const d = kea.Dhcp6 as {
    'client-classes': { name: string; test: string; 'option-data': { name: string; data: string }[] }[];
    subnet6: { subnet: string; interface: string; reservations: unknown[]; 'require-client-classes': string[] }[];
  };
  const byName = Object.fromEntries(d['client-classes'].map((c) => [c.name, c]));
  assert.equal(Object.keys(byName), ['harvgen-six-v6-ipxe', 'harvgen-six-v6-efi64', 'harvgen-six-v6-efihttp']);
  assert.is(byName['harvgen-six-v6-ipxe']!['option-data'][0]!.data, 'http://[fd00:6::1]/boot.ipxe');
  assert.is(byName['harvgen-six-v6-efi64']!['option-data'][0]!.data, 'tftp://[fd00:6::1]/snponly.efi');
  assert.equal(byName['harvgen-six-v6-efihttp']!['option-data'][1], {
    name: 'vendor-class',
    data: '343, 000a48545450436c69656e74',
    'always-send': true,
  });
  assert.is(d.subnet6[0]!.interface, 'eno1');
  assert.equal(d.subnet6[0]!.reservations, [
    { 'hw-address': '52:54:00:00:00:01', hostname: 'a', 'ip-addresses': ['fd00:6::10', 'fd00:6::11', 'fd00:6::12', 'fd00:6::13'] },
  ]);
  assert.equal(d.subnet6[0]!['require-client-classes'], Object.keys(byName));
});

/** The error codes of an inventory. */
async function errors(input: Record<string, unknown>): Promise<string[]> {
  const r = await check({ sites: [site(input)] });
  return r.diagnostics.filter((x) => x.severity === 'error').map((x) => `${x.code} ${x.path ?? ''}`);
}

/** `input` has an error starting with `want` (code and path). */
async function refuses(input: Record<string, unknown>, want: string): Promise<void> {
  const e = await errors(input);
  assert.ok(
    e.some((x) => x.startsWith(want)),
    `expected ${want}; got ${e.join(', ') || 'no error'}`,
  );
}

test('refused: a Harvester node on an IPv6-only network, a boot server IPv6 machines cannot reach, settings that write IPv4', async () => {
  const harvester = {
    ...V6_ONLY,
    harvester: { version: 'v1.6.0', artifacts: 'http://[fd00:6::1]/artifacts' },
    cluster: { vip: 'fd00:6::10', token: 't.123' },
    nodes: [{ hostname: 'h', mac: '52:54:00:00:00:09' }],
  };
  await refuses(harvester, 'NODE_IPV6_HARVESTER');
  await refuses({ ...V6_ONLY, boot: { server: 'http://10.0.0.1' } }, 'NET_IPV6_INVALID boot.server');
  assert.ok(
    (await errors({ ...V6_ONLY, boot: { server: 'http://boot.example.net' } })).some((e) => e.startsWith('NET_IPV6_INVALID network.ipv6')),
  );
  const v6 = V6_ONLY.network.ipv6;
  assert.ok(
    (await errors({ ...V6_ONLY, network: { ipv6: { ...v6, server: 'fd00:7::1' } } })).some((e) =>
      e.startsWith('NET_IPV6_INVALID network.ipv6.server'),
    ),
  );
  assert.ok(
    (await errors({ ...V6_ONLY, network: { ipv6: { ...v6, prefix: 'fd00:6::/48' } } })).some((e) =>
      e.startsWith('NET_IPV6_INVALID network.ipv6.prefix'),
    ),
  );
  assert.ok(
    (await errors({ ...V6_ONLY, network: { ipv6: { ...v6, dhcp_range: 'fd00:6::1fff-fd00:6::1000' } } })).some((e) =>
      e.startsWith('NET_IPV6_INVALID network.ipv6.dhcp_range'),
    ),
  );
  const nodes = (extra: Record<string, unknown>) => ({ ...V6_ONLY, nodes: [{ ...V6_ONLY.nodes[0], ...extra }] });
  await refuses(nodes({ ip: '10.0.0.5' }), 'NET_IPV6_ONLY_UNSUPPORTED nodes[0].ip');
  await refuses(nodes({ ip6: 'fd00:7::5' }), 'NODE_IP6_INVALID nodes[0].ip6');
  await refuses(nodes({ ip6: 'fd00:6::1' }), 'NODE_IP6_INVALID nodes[0].ip6');
  await refuses(nodes({ ip6: 'FD00:6::5' }), 'NODE_IP6_INVALID nodes[0].ip6');
  const twice = { ...V6_ONLY, nodes: [V6_ONLY.nodes[0], { ...V6_ONLY.nodes[1], ip6: 'fd00:6::11' }] };
  await refuses(twice, 'NODE_IP6_INVALID nodes[1].ip6');
  await refuses({ ...V6_ONLY, lab: {} }, 'NET_IPV6_ONLY_UNSUPPORTED lab');
  await refuses({ ...V6_ONLY, nginx: { file_key: 'k'.repeat(32) } }, 'DHCP_IPV6_UNSUPPORTED');
  await refuses({ ...V6_ONLY, dhcp: { server: 'kea' } }, 'DHCP_IPV6_UNSUPPORTED');
  // Neither IPv4 nor IPv6: the IPv4 keys are asked for.
  const none = await errors({ ...V6_ONLY, network: {} });
  assert.ok(none.some((e) => e.startsWith('SCHEMA_REQUIRED')));
  // Part of IPv4 beside IPv6: the rest of it is asked for.
  assert.ok((await errors({ ...V6_ONLY, network: { ipv6: v6, cidr: '10.0.0.0/24' } })).length > 0);
  // One key missing of three (the pool, dhcp_range, is not required): that one is named, once; the keys that are there are not.
  const r = await check({
    sites: [site({ ...V6_ONLY, network: { cidr: '10.0.0.0/24', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' } })],
  });
  const shape = r.diagnostics.filter((d) => d.code.startsWith('SCHEMA'));
  assert.equal(
    shape.map((d) => `${d.code} ${d.message}`),
    ['SCHEMA_REQUIRED missing required key "gateway" in network'],
  );
});

test('hostile IPv6 values stop at the schema: nothing but hex digits and colons reaches a rule or a file', async () => {
  for (const bad of ['fd00::1;allow all', 'fd00::1\ndhcp-range=1', 'fd00::1,tag:x', '[fd00::1]', 'fd00::1 ', '${ip6}']) {
    const e = await errors({ ...V6_ONLY, nodes: [{ ...V6_ONLY.nodes[0], ip6: bad }] });
    assert.ok(
      e.some((x) => x.startsWith('SCHEMA_PATTERN nodes[0].ip6')),
      `${JSON.stringify(bad)}: ${e.join(', ')}`,
    );
  }
  for (const server of ['http://[fd00::1;x]', 'http://[fd00::1]]/', 'http://[fd00::1] /x', 'http://[FD00::1]']) {
    const e = await errors({ ...V6_ONLY, boot: { server } });
    assert.ok(
      e.some((x) => x.startsWith('SCHEMA_PATTERN boot.server')),
      `${server}: ${e.join(', ')}`,
    );
  }
});

test('the URL pattern takes exactly the IPv6 addresses the parser takes (no URL the model cannot read)', () => {
  const re = new RegExp(VALUE_KINDS.serverUrl.pattern);
  const chars = '0123456789abcdef::';
  // A fixed sequence (a linear congruential generator): the same strings on every run.
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < 20_000; i++) {
    let text = '';
    for (let n = 2 + (next() % 18); n > 0; n--) text += chars[next() % chars.length];
    const url = `http://[${text}]`;
    assert.is(re.test(url), parseIpv6Lenient(text) !== undefined, url);
    if (re.test(url)) new URL(url); // never throws for what the pattern takes
  }
});

test('more refusals: IPv6 URLs for Harvester, arm64 and the lab on an IPv6-only network, the server in the pool, the prefix address', async () => {
  const dual = {
    site: 'dual',
    harvester: { version: 'v1.6.0', artifacts: 'http://[fd00:6::1]/artifacts' },
    boot: { server: 'http://[fd00:6::1]' },
    network: {
      cidr: '10.0.0.0/24',
      gateway: '10.0.0.1',
      dns: ['10.0.0.1'],
      dhcp_range: '10.0.0.100-10.0.0.199',
      ipv6: { prefix: 'fd00:6::/64', dhcp_range: 'fd00:6::1000-fd00:6::1fff' },
    },
    cluster: { vip: '10.0.0.10', token: 't.123', password: 'p.123' },
    defaults: { install: { device: '/dev/vda' } },
    nodes: [{ hostname: 'h', mac: '52:54:00:00:00:01', ip: '10.0.0.11' }],
  };
  await refuses(dual, 'NODE_IPV6_HARVESTER boot.server');
  await refuses(dual, 'NODE_IPV6_HARVESTER harvester.artifacts');
  await refuses({ ...V6_ONLY, nodes: [{ ...V6_ONLY.nodes[0], arch: 'arm64' }] }, 'NET_IPV6_ONLY_UNSUPPORTED nodes[0].arch');
  await refuses({ ...V6_ONLY, outputs: { lab: true } }, 'NET_IPV6_ONLY_UNSUPPORTED outputs.lab');
  const v6 = V6_ONLY.network.ipv6;
  await refuses({ ...V6_ONLY, boot: { server: 'http://[fd00:6::1001]' } }, 'NET_IPV6_INVALID boot.server');
  await refuses({ ...V6_ONLY, nodes: [{ ...V6_ONLY.nodes[0], ip6: 'fd00:6::2' }] }, 'NODE_IP6_INVALID nodes[0].ip6');
  // The node's /126 block reaching into the pool.
  await refuses({ ...V6_ONLY, network: { ipv6: { ...v6, dhcp_range: 'fd00:6::12-fd00:6::1fff' } } }, 'NODE_IP6_INVALID nodes[0].ip6');
});

test('nginx.listen of a port listens on IPv6 too; a static IPv4 node is not served to the DHCPv6 pool; unknown machines join over IPv4 only', async () => {
  const f = await files({ ...V6_ONLY, nginx: { listen: '8080' } });
  assert.match(f.get('nginx/harvgen.conf')!, /^ {4}listen 8080;\n {4}listen \[::\]:8080;$/m);
  const g = await files({ ...V6_ONLY, nginx: { listen: '[fd00:6::1]:8080' } });
  assert.match(g.get('nginx/harvgen.conf')!, /^ {4}listen \[fd00:6::1\]:8080;\n {4}server_name/m);
  const dual = await files({
    site: 'dual',
    harvester: { version: 'v1.6.0', artifacts: 'http://10.0.0.1/artifacts' },
    boot: { server: 'http://10.0.0.1', unknown: 'join' },
    network: {
      cidr: '10.0.0.0/24',
      gateway: '10.0.0.1',
      dns: ['10.0.0.1'],
      dhcp_range: '10.0.0.100-10.0.0.199',
      ipv6: { prefix: 'fd00:6::/64', dhcp_range: 'fd00:6::1000-fd00:6::1fff', server: 'fd00:6::1' },
    },
    cluster: { vip: '10.0.0.10', token: 't.123', password: 'p.123' },
    defaults: { install: { device: '/dev/vda' }, interfaces: [{ name: 'eno1' }] },
    os_profiles: { debian: { kernel: 'http://10.0.0.7/vmlinuz', initrds: ['http://10.0.0.7/initrd.gz'] } },
    nodes: [
      { hostname: 'h', mac: '52:54:00:00:00:01', ip: '10.0.0.11' },
      { hostname: 's', mac: '52:54:00:00:00:02', ip: '10.0.0.12', method: 'static', os: 'debian' },
    ],
  });
  const nginx = dual.get('nginx/harvgen.conf')!;
  assert.equal(allowOf(nginx, '/cloud-init/52-54-00-00-00-02/user-data'), ['10.0.0.12']);
  assert.ok(
    allowOf(nginx, '/unknown/join.yaml').every((a) => a.startsWith('10.0.0.')),
    allowOf(nginx, '/unknown/join.yaml').join(' '),
  );
});

test("two sites on one dnsmasq with overlapping IPv6 prefixes are refused; the boot server's IPv6 address is its own in status", async () => {
  const one = (name: string, prefix: string) =>
    site({
      ...V6_ONLY,
      site: name,
      boot: { server: `http://[${prefix.replace('::/64', '::1')}]/${name}` },
      dnsmasq: { host: 'boot1', interface: 'eno1' },
      network: { ipv6: { prefix, dhcp_range: prefix.replace('::/64', '::1000-') + prefix.replace('::/64', '::1fff') } },
      nodes: [
        {
          hostname: 'a',
          mac: name === 's1' ? '52:54:00:00:00:01' : '52:54:00:00:00:02',
          ip6: prefix.replace('::/64', '::11'),
          os: 'debian',
        },
      ],
    });
  const same = await check({ sites: [one('s1', 'fd00:6::/64'), one('s2', 'fd00:6::/64')] });
  assert.ok(
    same.diagnostics.some((d) => d.code === 'SITE_DNSMASQ_CONFLICT' && /IPv6 prefixes overlap/.test(d.message)),
    same.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'),
  );
  const apart = await check({ sites: [one('s1', 'fd00:6::/64'), one('s2', 'fd00:7::/64')] });
  assert.not.ok(apart.diagnostics.some((d) => d.code === 'SITE_DNSMASQ_CONFLICT'));
  const r = await compileSite(
    site({ ...V6_ONLY, boot: { server: 'http://boot.example.net' }, network: { ipv6: { ...V6_ONLY.network.ipv6, server: 'fd00:6::1' } } }),
  );
  assert.ok(serverAddresses(r.model!).includes('fd00:6::1'));
});

test.run();
