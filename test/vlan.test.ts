// Tagged VLANs the boot server serves (network.vlans): what a node on one gets (its installer's
// kernel line and URLs, its config, its reservation in the VLAN's scope of each DHCP form, nginx's
// listen and allow lines), what stays as it was without `vlans`, and what the rule refuses: every
// way the VLAN of iPXE's kernel line, the config's vlan_id, the DHCP scope and nginx's access
// could disagree. The programs that act run the generated files in test/real/vlan.test.ts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import { MEDIA } from '../src/derive/media/index.ts';
import { status } from '../src/status/index.ts';
import { readDeployManifest, type DeployManifest } from '../src/verify/manifest.ts';
import { defaultServers } from '../src/verify/index.ts';
import { planSite, serverFor } from '../src/verify/plan.ts';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { build, check, compileSite } from '../src/index.ts';
import { serverAddresses } from '../src/status/origin.ts';
import { resolveSite } from '../src/model/index.ts';
import type { SiteInput } from '../src/types/site-input.ts';
import { tempDir } from './helpers/tmp.ts';

function site(input: Record<string, unknown>): string {
  const dir = join(tempDir('vlan'), 's');
  mkdirSync(dir);
  writeFileSync(join(dir, 'site.yaml'), stringify(input));
  return dir;
}

const VLAN100 = {
  id: 100,
  cidr: '10.100.0.0/24',
  gateway: '10.100.0.1',
  server: '10.100.0.5',
  interface: 'eno1.100',
  dhcp_range: '10.100.0.100-10.100.0.199',
};

/** A site whose Harvester nodes install on VLAN 100; `change` edits a copy. */
function input(change: (s: Record<string, any>) => void = () => {}): Record<string, any> {
  const s: Record<string, any> = {
    site: 'vl',
    harvester: { version: 'v1.7.1', artifacts: 'http://10.40.0.5:8080/artifacts' },
    boot: { server: 'http://10.40.0.5:8080' },
    network: {
      cidr: '10.40.0.0/24',
      gateway: '10.40.0.1',
      dns: ['10.40.0.53'],
      dhcp_range: '10.40.0.100-10.40.0.199',
      vlans: [{ ...VLAN100 }],
    },
    dnsmasq: { interface: 'eno1' },
    cluster: { vip: '10.100.0.10', token: 'tok.123', password: 'pw.123' },
    defaults: { vlan: 100, install: { device: '/dev/vda' } },
    nodes: [
      {
        hostname: 'a',
        role: 'create',
        method: 'static',
        mac: '52:54:00:00:00:01',
        ip: '10.100.0.21',
        interfaces: [{ name: 'enp1s0', mac: '52:54:00:00:00:01' }],
      },
      {
        hostname: 'b',
        macs: ['52:54:00:00:00:02', '52:54:00:00:00:03'],
        ip: '10.100.0.22',
        interfaces: [{ name: 'eno1' }, { name: 'eno2' }],
      },
    ],
  };
  change(s);
  return s;
}

async function files(i: Record<string, unknown>): Promise<Map<string, string>> {
  const r = await compileSite(site(i));
  assert.equal(
    r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code} ${d.message}`),
    [],
  );
  return new Map((r.artifacts ?? []).map((a) => [a.path, String(a.contents)]));
}

async function errors(i: Record<string, unknown>): Promise<{ code: string; message: string; at: string }[]> {
  const r = await check({ sites: [site(i)] });
  return r.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ code: d.code, message: d.message, at: d.path ?? '' }));
}

const kernelLine = (script: string) => script.split('\n').find((l) => l.startsWith('kernel '))!;

test("a node on a VLAN scope: its installer tags the VLAN on the named NIC and fetches from the server's address on the VLAN; iPXE itself stays on the native network", async () => {
  const f = await files(input());
  const a = kernelLine(f.get('ipxe/52-54-00-00-00-01.ipxe')!);
  // iPXE fetches the kernel from boot.server (native); the installer's URLs name 10.100.0.5.
  assert.match(a, /^kernel --name vmlinuz http:\/\/10\.40\.0\.5:8080\/artifacts\/harvester-v1\.7\.1-vmlinuz-amd64 /);
  assert.ok(a.includes(' vlan=vlan100:enp1s0 '), a);
  assert.ok(a.includes(' ip=10.100.0.21::10.100.0.1:255.255.255.0:a:vlan100:none '), a);
  assert.ok(a.includes(' nameserver=10.40.0.53 '), a);
  assert.ok(a.includes(' root=live:http://10.100.0.5:8080/artifacts/harvester-v1.7.1-rootfs-amd64.squashfs '), a);
  assert.ok(a.includes(' harvester.install.config_url=http://10.100.0.5:8080/harvester/a.yaml'), a);
  // Each boot MAC of b pins the VLAN to its own NIC, DHCP on the VLAN alone.
  const b2 = kernelLine(f.get('ipxe/52-54-00-00-00-03.ipxe')!);
  assert.ok(b2.includes(' vlan=vlan100:eno2 ip=vlan100:dhcp BOOTIF=01-52-54-00-00-00-03 '), b2);
  // The config: vlan_id, and the ISO and the webhooks over the VLAN too (the installer is on it by then).
  const cfg = parse(f.get('harvester/a.yaml')!) as { install: Record<string, any> };
  assert.is(cfg.install.management_interface.vlan_id, 100);
  assert.is(cfg.install.management_interface.gateway, '10.100.0.1');
  assert.is(cfg.install.management_interface.subnet_mask, '255.255.255.0');
  assert.is(cfg.install.iso_url, 'http://10.100.0.5:8080/artifacts/harvester-v1.7.1-amd64.iso');
  // The boot scripts themselves are fetched by iPXE on the native network.
  assert.match(f.get('boot.ipxe')!, /http:\/\/10\.40\.0\.5:8080\//);
});

test('boot.report: the installer reports to the server over the VLAN; artifacts on another server are left as they are', async () => {
  const f = await files(
    input((s) => {
      s.boot.report = true;
      s.harvester.artifacts = 'http://mirror.example.net/harvester/v1.7.1';
    }),
  );
  const cfg = parse(f.get('harvester/a.yaml')!) as { install: { webhooks: { url: string }[] } };
  assert.ok(cfg.install.webhooks.length > 0);
  for (const w of cfg.install.webhooks) assert.match(w.url, /^http:\/\/10\.100\.0\.5:8080\/harvgen-events\/a\//);
  const a = kernelLine(f.get('ipxe/52-54-00-00-00-01.ipxe')!);
  assert.ok(a.includes(' root=live:http://mirror.example.net/harvester/v1.7.1/harvester-v1.7.1-rootfs-amd64.squashfs '), a);
  assert.ok(a.includes(' harvester.install.config_url=http://10.100.0.5:8080/harvester/a.yaml'), a);
});

test("dnsmasq: a scope on the VLAN's interface (range or, without a pool, static), its router and DNS; the node's reservation is its VLAN address", async () => {
  const f = await files(
    input((s) => {
      s.network.vlans.push({
        id: 200,
        cidr: '10.200.0.0/25',
        gateway: '10.200.0.1',
        server: '10.200.0.5',
        interface: 'eno1.200',
        dns: ['10.200.0.53'],
      });
      s.nodes.push({ hostname: 'c', vlan: 200, mac: '52:54:00:00:00:04', ip: '10.200.0.23', interfaces: [{ name: 'enp1s0' }] });
    }),
  );
  const conf = f.get('dnsmasq/harvgen.conf')!;
  for (const line of [
    'interface=eno1',
    'interface=eno1.100',
    'dhcp-range=set:harvgen-vl-v100,10.100.0.100,10.100.0.199,255.255.255.0,12h',
    'dhcp-option=tag:harvgen-vl-v100,option:router,10.100.0.1',
    'dhcp-option=tag:harvgen-vl-v100,option:dns-server,10.40.0.53',
    'interface=eno1.200',
    'dhcp-range=set:harvgen-vl-v200,10.200.0.0,static,255.255.255.128,12h',
    'dhcp-option=tag:harvgen-vl-v200,option:dns-server,10.200.0.53',
  ])
    assert.ok(conf.split('\n').includes(line), `missing ${line}`);
  // No boot file on a VLAN scope: every dhcp-boot line is the native range's.
  for (const l of conf.split('\n').filter((x) => x.startsWith('dhcp-boot='))) assert.match(l, /^dhcp-boot=tag:harvgen-vl,/);
  assert.match(f.get('dnsmasq/hosts/vl.c')!, /^52:54:00:00:00:04,10\.200\.0\.23,c$/m);
  // nginx listens on the server's address on each VLAN and serves each config to the node's VLAN address.
  const nginx = f.get('nginx/harvgen.conf')!;
  assert.equal(nginx.match(/^ {4}listen .*$/gm), [
    '    listen 10.40.0.5:8080;',
    '    listen 10.100.0.5:8080;',
    '    listen 10.200.0.5:8080;',
  ]);
  assert.match(nginx, /location = \/harvester\/c\.yaml \{\n( {8}.*\n)*? {8}allow 10\.200\.0\.23;\n/);
});

test('without dnsmasq.interface, dnsmasq keeps serving every interface (no interface= line is added for a VLAN)', async () => {
  const f = await files(input((s) => delete s.dnsmasq));
  assert.not.match(f.get('dnsmasq/harvgen.conf')!, /^interface=/m);
});

test('Kea: a subnet per VLAN on its interface with the reservations of its nodes; the native subnet keeps the MACs by name only', async () => {
  const f = await files(input((s) => (s.dhcp = { server: 'kea' })));
  const d = JSON.parse(f.get('kea/harvgen.json')!).Dhcp4;
  assert.equal(d['interfaces-config'].interfaces, ['eno1', 'eno1.100']);
  const [native, v100] = d.subnet4;
  assert.is(native.interface, 'eno1');
  assert.ok(native.reservations.every((r: Record<string, unknown>) => r['ip-address'] === undefined));
  assert.is(v100.subnet, '10.100.0.0/24');
  assert.is(v100.interface, 'eno1.100');
  assert.equal(v100.pools, [{ pool: '10.100.0.100 - 10.100.0.199' }]);
  assert.equal(
    v100.reservations.map((r: Record<string, string>) => `${r['hw-address']} ${r['ip-address']}`),
    ['52:54:00:00:00:01 10.100.0.21', '52:54:00:00:00:02 10.100.0.22', '52:54:00:00:00:03 10.100.0.22'],
  );
  assert.is(v100['require-client-classes'], undefined, 'no boot classes on a VLAN');
  assert.is(d['ip-reservations-unique'], false, "b's two MACs share its VLAN address");
});

test('ISC dhcpd: a subnet per VLAN, a host per boot MAC with its VLAN address; the native hosts have none', async () => {
  const f = await files(input((s) => (s.dhcp = { server: 'isc' })));
  const conf = f.get('dhcpd/harvgen.conf')!;
  const [native, vlan] = conf.split('# VLAN 100 (network.vlans)');
  assert.not.match(native!, /fixed-address 10\.100\./);
  assert.match(vlan!, /^subnet 10\.100\.0\.0 netmask 255\.255\.255\.0 \{$/m);
  assert.match(vlan!, /host harvgen-vl-b-v100-1 \{\n {4}hardware ethernet 52:54:00:00:00:03;\n {4}fixed-address 10\.100\.0\.22;/);
});

test('without network.vlans a node on a VLAN installs as before: native reservation, boot.server URLs', async () => {
  const f = await files(
    input((s) => {
      delete s.network.vlans;
      s.cluster.vip = '10.40.0.10';
      s.nodes[0].ip = '10.40.0.21';
      s.nodes[1].ip = '10.40.0.22';
    }),
  );
  const a = kernelLine(f.get('ipxe/52-54-00-00-00-01.ipxe')!);
  assert.ok(a.includes(' vlan=vlan100:enp1s0 '), a);
  assert.ok(a.includes(' harvester.install.config_url=http://10.40.0.5:8080/harvester/a.yaml'), a);
  assert.match(f.get('dnsmasq/hosts/vl.a')!, /^52:54:00:00:00:01,10\.40\.0\.21,a$/m);
  assert.equal(f.get('nginx/harvgen.conf')!.match(/^ {4}listen .*$/gm), ['    listen 10.40.0.5:8080;']);
});

test('the node takes its prefix, gateway and DNS from its VLAN (its own layers first); status counts the VLAN address as the server', () => {
  const i = input((s) => {
    s.network.vlans[0].dns = ['10.100.0.53'];
    s.nodes[1].gateway = '10.100.0.254';
  }) as unknown as SiteInput;
  const { model } = resolveSite(i);
  const [a, b] = model.nodes;
  assert.equal([a!.prefix, a!.gateway, [...a!.dns]], [24, '10.100.0.1', ['10.100.0.53']]);
  assert.is(b!.gateway, '10.100.0.254');
  assert.ok(serverAddresses(model).includes('10.100.0.5'));
});

test('check refuses a VLAN mismatch: a vlan no scope serves (as iPXE would tag it), an address of another VLAN, a NIC the installer cannot tag', async () => {
  // The mutation of the boot test: the node's VLAN differs from the DHCP scope's.
  const none = await errors(input((s) => (s.nodes[1].vlan = 200)));
  assert.equal(
    none.map((e) => `${e.code} ${e.at}`),
    ['NODE_VLAN_NO_SCOPE nodes[1].vlan'],
  );
  assert.match(none[0]!.message, /VLAN 200, which no DHCP scope of `network.vlans` serves \(100\)/);
  // A native node with a VLAN address.
  const native = await errors(input((s) => (s.nodes[1].vlan = 1)));
  assert.equal(
    native.map((e) => e.code),
    ['NODE_VLAN_SCOPE_MISMATCH'],
  );
  // An unnamed boot NIC: its installer cannot tag.
  const unnamed = await errors(input((s) => delete s.nodes[1].interfaces));
  assert.equal(
    unnamed.map((e) => e.code),
    ['NODE_VLAN_SCOPE_MISMATCH'],
  );
  assert.match(unnamed[0]!.message, /no interface names its boot NIC 52:54:00:00:00:02, 52:54:00:00:00:03/);
  // A node of the VLAN with an address outside it.
  const outside = await errors(input((s) => (s.nodes[1].ip = '10.40.0.22')));
  assert.equal(
    outside.map((e) => e.code),
    ['NODE_IP_OUTSIDE_NETWORK'],
  );
  assert.match(outside[0]!.message, /outside network 10\.100\.0\.0\/24 \(network\.vlans\[0\]\.cidr, VLAN 100\)/);
  // No pool and no ip.
  const noAddress = await errors(
    input((s) => {
      delete s.network.vlans[0].dhcp_range;
      delete s.nodes[1].ip;
    }),
  );
  assert.equal(
    noAddress.map((e) => e.code),
    ['NODE_VLAN_SCOPE_MISMATCH'],
  );
  // A boot ISO on a VLAN scope.
  const iso = await errors(input((s) => (s.nodes[0].medium = 'iso')));
  assert.ok(
    iso.some((e) => e.code === 'NODE_VLAN_SCOPE_MISMATCH' && /boots from a boot ISO/.test(e.message)),
    JSON.stringify(iso),
  );
});

test('check refuses a malformed VLAN scope, each at its key', async () => {
  const cases: [(s: Record<string, any>) => void, string, RegExp][] = [
    [(s) => (s.network.vlans[0].cidr = '10.100.0.1/24'), 'network.vlans[0].cidr', /host bits/],
    [(s) => (s.network.vlans[0].gateway = '10.40.0.1'), 'network.vlans[0].gateway', /not a host address of 10\.100\.0\.0\/24/],
    [(s) => (s.network.vlans[0].server = '10.100.0.150'), 'network.vlans[0].dhcp_range', /server 10\.100\.0\.150 lies inside/],
    [(s) => (s.network.vlans[0].dhcp_range = '10.100.0.200-10.100.1.10'), 'network.vlans[0].dhcp_range', /not a range/],
    [(s) => (s.network.vlans[0].dns = ['dns.example.net']), 'network.vlans[0].dns[0]', /not an IPv4 address/],
    [(s) => (s.network.vlans[0].interface = 'eno1'), 'network.vlans[0].interface', /native network's/],
    [
      (s) =>
        s.network.vlans.push({
          ...VLAN100,
          cidr: '10.101.0.0/24',
          gateway: '10.101.0.1',
          server: '10.101.0.5',
          dhcp_range: undefined,
          interface: 'x',
        }),
      'network.vlans[1].id',
      /listed twice/,
    ],
    [
      (s) => s.network.vlans.push({ id: 101, cidr: '10.40.0.0/16', gateway: '10.40.0.1', server: '10.40.0.2', interface: 'eno1.101' }),
      'network.vlans[1].cidr',
      /overlaps the native network/,
    ],
    [(s) => (s.dnsmasq.mode = 'proxy'), 'network.vlans', /proxy dnsmasq/],
    [(s) => (s.outputs = { lab: true }), 'network.vlans', /libvirt lab/],
    [
      (s) => {
        s.cluster.vip_mode = 'dhcp';
        s.cluster.vip_hw_addr = '02:00:00:00:00:10';
      },
      'cluster.vip_mode',
      /reserves the VIP on the native network only/,
    ],
  ];
  for (const [change, at, message] of cases) {
    const e = (await errors(input(change))).filter((x) => x.code === 'NET_VLAN_INVALID');
    assert.is(e.length, 1, `${at}: ${JSON.stringify(e)}`);
    assert.is(e[0]!.at, at);
    assert.match(e[0]!.message, message);
  }
});

test('the VIP is judged on the create node’s VLAN', async () => {
  const e = await errors(input((s) => (s.cluster.vip = '10.40.0.10')));
  assert.equal(
    e.map((x) => x.code),
    ['CLUSTER_VIP_OUTSIDE_NETWORK'],
  );
  assert.match(e[0]!.message, /not a free host address of 10\.100\.0\.0\/24 \(VLAN 100, the create node's\)/);
  const inPool = await errors(input((s) => (s.cluster.vip = '10.100.0.150')));
  assert.equal(
    inPool.map((x) => x.code),
    ['CLUSTER_VIP_IN_DHCP_RANGE'],
  );
});

test("nginx listens on each VLAN's server at boot.server's port, with nginx.listen an address too, never twice, and not where it listens on every address", async () => {
  const listens = async (change: (s: Record<string, any>) => void) =>
    (await files(input(change))).get('nginx/harvgen.conf')!.match(/^ {4}listen .*$/gm);
  assert.equal(await listens((s) => (s.nginx = { listen: '10.40.0.5:8080' })), [
    '    listen 10.40.0.5:8080;',
    '    listen 10.100.0.5:8080;',
  ]);
  assert.equal(await listens((s) => (s.nginx = { listen: '8080' })), ['    listen 8080;']);
  // boot.server on the VLAN's own address: one listen line for it.
  assert.equal(
    await listens((s) => {
      s.boot.server = 'http://10.100.0.5:8080';
      s.harvester.artifacts = 'http://10.100.0.5:8080/artifacts';
    }),
    ['    listen 10.100.0.5:8080;'],
  );
});

test("explain names the node's VLAN as the source of its prefix, gateway and DNS, and the config URL its installer fetches", async () => {
  const dir = site(input((s) => (s.network.vlans[0].dns = ['10.100.0.53'])));
  const { explain } = await import('../src/index.ts');
  const r = await explain({ site: dir, node: 'b' });
  const v = (key: string) => r.explanation!.values.find((x) => x.key === key);
  assert.equal(v('prefix')!.source, { kind: 'derived', from: 'network.vlans[0].cidr' });
  assert.is((v('gateway')!.source as { path: string }).path, 'network.vlans[0].gateway');
  assert.is((v('dns')!.source as { path: string }).path, 'network.vlans[0].dns');
  assert.is(v('config_url')!.value, 'http://10.100.0.5:8080/harvester/b.yaml');
});

test('check refuses what the review found: unknown machines joining on a VLAN, a pool holding the gateway or junk, a node or the VIP on the server, unusable networks', async () => {
  const codes = async (change: (s: Record<string, any>) => void) => (await errors(input(change))).map((e) => `${e.code} ${e.at}`);
  assert.equal(
    await codes((s) => {
      s.boot.unknown = 'join';
      s.defaults.interfaces = [{ name: 'eno1' }];
    }),
    ['NODE_VLAN_SCOPE_MISMATCH boot.unknown'],
  );
  assert.equal(await codes((s) => (s.network.vlans[0].dhcp_range = '10.100.0.1-10.100.0.4')), [
    'NET_VLAN_INVALID network.vlans[0].dhcp_range',
  ]);
  assert.equal(await codes((s) => (s.network.vlans[0].dhcp_range = '10.100.0.100-10.100.0.199-junk')), [
    'NET_VLAN_INVALID network.vlans[0].dhcp_range',
  ]);
  assert.equal(await codes((s) => (s.nodes[1].ip = '10.100.0.5')), ['NODE_IP_RESERVED nodes[1].ip']);
  assert.equal(await codes((s) => (s.cluster.vip = '10.100.0.5')), ['CLUSTER_VIP_OUTSIDE_NETWORK cluster.vip']);
  for (const cidr of ['0.0.0.0/8', '127.0.0.0/24', '224.1.0.0/24', '240.0.0.0/24']) {
    const e = await codes((s) =>
      s.network.vlans.push({
        id: 300,
        cidr,
        gateway: cidr.replace(/0\/\d+$/, '1'),
        server: cidr.replace(/0\/\d+$/, '5'),
        interface: 'eno1.300',
      }),
    );
    assert.equal(e, ['NET_VLAN_INVALID network.vlans[1].cidr'], cidr);
  }
  // The native network too (Kea's subnet id of 0.0.0.0 crashed a build before).
  const native = await errors(
    input((s) => {
      delete s.network.vlans;
      s.dhcp = { server: 'kea' };
      s.network = { cidr: '0.0.0.0/24', gateway: '0.0.0.1', dns: ['0.0.0.1'], dhcp_range: '0.0.0.100-0.0.0.199' };
    }),
  );
  assert.ok(
    native.some((e) => e.code === 'NET_CIDR_INVALID' && /0\.0\.0\.0\/8/.test(e.message)),
    JSON.stringify(native),
  );
});

test('warnings: a cluster over two management networks (its VIP cannot follow), Kea on an interface and its own VLAN', async () => {
  const warnings = async (change: (s: Record<string, any>) => void) => {
    const r = await check({ sites: [site(input(change))] });
    return r.diagnostics.filter((d) => d.severity === 'warning' && d.code !== 'SECRET_INLINE').map((d) => `${d.code} ${d.path}`);
  };
  assert.equal(
    await warnings((s) => {
      s.nodes[1].vlan = 1;
      s.nodes[1].ip = '10.40.0.22';
    }),
    ['CLUSTER_NETWORKS_SPLIT nodes[1].vlan'],
  );
  assert.equal(
    await warnings((s) => {
      s.dhcp = { server: 'kea' };
    }),
    ['DHCP_KEA_VLAN_PARENT network.vlans[0].interface'],
  );
  assert.equal(
    await warnings((s) => {
      s.dhcp = { server: 'kea' };
      s.network.vlans[0].interface = 'br100';
    }),
    [],
  );
});

test('sites on one dnsmasq: a VLAN of one overlapping the other\u2019s network or VLAN is a conflict', async () => {
  const a = site(input((s) => (s.dnsmasq.host = 'boot1')));
  const b = site(
    input((s) => {
      s.site = 'other';
      s.dnsmasq = { host: 'boot1', interface: 'eno2' };
      s.network.vlans[0].interface = 'eno2.100';
      s.network.vlans[0].cidr = '10.101.0.0/24';
      s.network.vlans[0].gateway = '10.101.0.1';
      s.network.vlans[0].server = '10.101.0.5';
      s.network.vlans[0].dhcp_range = '10.101.0.100-10.101.0.199';
      s.network.cidr = '10.100.0.0/24';
      s.network.gateway = '10.100.0.1';
      s.network.dns = ['10.100.0.53'];
      s.network.dhcp_range = '10.100.0.200-10.100.0.250';
      s.cluster.vip = '10.101.0.10';
      s.nodes[0].ip = '10.101.0.21';
      s.nodes[1].ip = '10.101.0.22';
      s.nodes[0].mac = '52:54:00:00:01:01';
      s.nodes[0].interfaces[0].mac = '52:54:00:00:01:01';
      s.nodes[1].macs = ['52:54:00:00:01:02', '52:54:00:00:01:03'];
    }),
  );
  const r = await check({ sites: [a, b] });
  const conflicts = r.diagnostics.filter((d) => d.code === 'SITE_DNSMASQ_CONFLICT');
  assert.is(conflicts.length, 1, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  assert.match(conflicts[0]!.message, /10\.100\.0\.0\/24, a VLAN and 10\.100\.0\.0\/24/);
});

test('hints that do not mislead: a node on a VLAN no scope serves is not said to install on the native network; an ISO node on a scope is told a medium the schema takes', async () => {
  const all = async (change: (s: Record<string, any>) => void) =>
    (await check({ sites: [site(input(change))] })).diagnostics.map((d) => ({ code: d.code, message: d.message, hint: d.hint ?? '' }));
  const lost = await all((s) => (s.nodes[1].vlan = 101));
  assert.ok(
    lost.some((d) => d.code === 'NODE_VLAN_NO_SCOPE'),
    JSON.stringify(lost),
  );
  assert.not.ok(
    lost.some((d) => d.code === 'CLUSTER_NETWORKS_SPLIT'),
    `a node whose VLAN no scope serves installs on no known network: ${JSON.stringify(lost)}`,
  );
  const iso = await all((s) => (s.nodes[0].medium = 'iso'));
  const mismatch = iso.find((d) => d.code === 'NODE_VLAN_SCOPE_MISMATCH');
  assert.ok(mismatch, JSON.stringify(iso));
  const named = /`medium: ([a-z]+)`/.exec(mismatch!.hint)?.[1];
  assert.ok(named !== undefined && named in MEDIA, `the hint names a medium the schema takes: ${mismatch!.hint}`);
});

test("status: a VLAN node's script fetched from the native pool (its iPXE boots there) is its boot; from elsewhere it is foreign", async () => {
  const dir = site(input());
  const log = join(dir, '..', 'access.log');
  const at = (ip: string, path: string) => `${ip} - - [26/Nov/2026:22:00:00 +0000] "GET ${path} HTTP/1.1" 200 100 "-" "iPXE/1.21.1"`;
  // Node a (VLAN 100, ip 10.100.0.21) boots on the native network: its iPXE has 10.40.0.150 from the pool.
  writeFileSync(
    log,
    [at('10.40.0.150', '/ipxe/52-54-00-00-00-01.ipxe'), at('10.40.0.77', '/ipxe/52-54-00-00-00-02.ipxe')].join('\n') + '\n',
  );
  const r = await status({ sites: [dir], logs: [log] });
  const a = r.nodes.find((n) => n.hostname === 'a')!;
  assert.is(a.verdict, 'booting', JSON.stringify(a));
  assert.is(a.last_boot?.ip, '10.40.0.150');
  // 10.40.0.77 is outside the native pool and no node's: foreign, b never booted.
  assert.is(r.nodes.find((n) => n.hostname === 'b')!.verdict, 'never-booted');
  assert.is(r.foreignRequests, 1);
});

test("verify checks the boot server's address on each VLAN by default, where the VLAN installers fetch their root and config", async () => {
  const dir = site(input());
  const out = join(tempDir('vlan-verify'), 'deploy');
  const r = await build({ sites: [dir], outDir: out, secrets: 'filled' });
  assert.ok(r.ok, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  const tree = join(out, 'vl');
  const read = readDeployManifest(tree);
  assert.ok('manifest' in read, JSON.stringify(read));
  const m = (read as { manifest: DeployManifest }).manifest;
  assert.equal(defaultServers(m), ['http://10.40.0.5:8080', 'http://10.100.0.5:8080']);
  // The plan for the VLAN address asks it for node a's config, as a's installer does.
  const checks = planSite(m, serverFor(m.boot.server, 'http://10.100.0.5:8080'));
  assert.ok(
    checks.some((c) => c.url === 'http://10.100.0.5:8080/harvester/a.yaml'),
    checks.map((c) => c.url).join('\n'),
  );
  // A manifest edited to send verify elsewhere (another port, a path, credentials) keeps none of it.
  const text = readFileSync(join(tree, 'manifest.json'), 'utf8');
  const forged = JSON.parse(text) as { boot: { vlan_servers: string[] } };
  forged.boot.vlan_servers = [
    'http://10.100.0.5:9999',
    'http://evil.example:8080/x',
    'http://u:p@10.100.0.5:8080',
    'http://10.100.0.6:8080',
  ];
  const again = readDeployManifest(tree, JSON.stringify(forged)) as { manifest: DeployManifest };
  assert.equal(defaultServers(again.manifest), ['http://10.40.0.5:8080', 'http://10.100.0.6:8080']);
});

test.run();
