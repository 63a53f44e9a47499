// Node kinds as types (issue 21): every node setting is either read by a kind or reported as
// ignored for it (NODE_SETTING_IGNORED), never dropped in silence; `explain` shows what a node's
// kind has, and nothing of another kind's.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { check, compileSite, type Artifact, type Diagnostic, type NodeKind } from '../src/index.ts';
import { explainNode, findNode } from '../src/explain/index.ts';
import { tempDir } from './helpers/tmp.ts';

const HEAD = {
  site: 'kinds',
  harvester: { version: 'v1.5.1', artifacts: 'http://10.0.0.1/artifacts' },
  boot: { server: 'http://10.0.0.1' },
  network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' },
  cluster: {
    vip: '10.0.0.10',
    token: { env: 'HARVGEN_TEST_TOKEN' },
    ssh_authorized_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0tZXN0LWtleS1mb3ItdGVzdHMtb25seS0wMDAwMDAw test'],
  },
  os_profiles: { rocky: { kernel: 'http://10.0.0.2/os/vmlinuz', initrds: ['http://10.0.0.2/os/initrd.img'], params: ['ro'] } },
  // Lab files (the lab sizes are read by the domains) without a `lab:` section (the installer
  // rules judge `hardware:`, not the lab's sizing).
  outputs: { lab: true },
};

/**
 * The node of each kind every setting is tried on: a static address (so that `prefix`, `gateway`
 * and `dns` reach embed.ipxe) and, for Harvester, a data disk (so that `lab.data_disk_gib` has one).
 */
const NODES: Readonly<Record<NodeKind, Record<string, unknown>>> = {
  harvester: {
    hostname: 'n1',
    mac: '52:54:00:00:00:01',
    ip: '10.0.0.21',
    method: 'static',
    install: { device: '/dev/disk/by-id/ata-os-1', data_disk: '/dev/disk/by-id/ata-data-1' },
  },
  os: { hostname: 'n1', mac: '52:54:00:00:00:01', ip: '10.0.0.21', method: 'static', os: 'rocky' },
  iscsi: {
    hostname: 'n1',
    mac: '52:54:00:00:00:01',
    ip: '10.0.0.21',
    method: 'static',
    iscsi: { server: '10.0.0.5', target: 'iqn.2020-01.org.example:n1' },
  },
};

/** A value for each setting of a node that differs from the base nodes' (`null`: the setting is not tried, see below). */
const SAMPLES: Readonly<Record<string, unknown>> = {
  hostname: 'n9',
  mac: '52:54:00:00:00:09',
  macs: ['52:54:00:00:00:09', '52:54:00:00:00:0a'],
  ip: '10.0.0.29',
  ip6: 'fd00::29',
  role: 'join',
  cloud_init: { user_data: { packages: ['tmux'] } },
  arch: 'arm64',
  hardware: { memory_gib: 1 },
  harvester_version: 'v1.4.2',
  harvester_role: 'worker',
  install: { device: '/dev/disk/by-id/ata-os-2' },
  interfaces: [{ name: 'eno9', mac: '52:54:00:00:00:01' }],
  method: 'dhcp',
  prefix: 25,
  netmask: '255.255.255.128',
  gateway: '10.0.0.2',
  dns: ['10.0.0.3'],
  mtu: 9000,
  vlan: 100,
  bond: { mode: 'balance-tlb' },
  kernel_args: ['quiet'],
  config: { os: { ntp_servers: ['10.0.0.4'] } },
  state: 'local',
  medium: 'iso',
  medium_image: 'own',
  reinstall: 2,
  lab: { vcpus: 3 },
  bmc: { address: '10.0.1.9' },
  'lab.disk_gib': 300,
  'lab.data_disk_gib': 200,
  // What a node is: these choose its kind, so no kind ignores them (`os` with `iscsi` is an error).
  os: null,
  iscsi: null,
  // A reference to a layer of settings, each of them tried here on its own.
  profile: null,
};

async function compile(nodes: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}) {
  const dir = tempDir('kinds');
  writeFileSync(join(dir, 'site.yaml'), stringify({ ...HEAD, ...extra, nodes }));
  return compileSite(dir);
}

const files = (artifacts: readonly Artifact[] | undefined) =>
  new Map((artifacts ?? []).filter((a) => a.path !== 'manifest.json').map((a) => [a.path, String(a.contents)]));
const ignoredAt = (ds: readonly Diagnostic[], path: string) => ds.filter((d) => d.code === 'NODE_SETTING_IGNORED' && d.path === path);

test('the samples cover every setting of a node in the schema, and the lab sizes', () => {
  const schema = JSON.parse(readFileSync(new URL('../schema/node.schema.json', import.meta.url), 'utf8')) as {
    properties: Record<string, { properties?: Record<string, unknown> }>;
  };
  const fields = Object.keys(schema.properties).filter((k) => k !== '$schema');
  assert.equal(
    fields.filter((f) => !(f in SAMPLES)),
    [],
    'a node setting without a sample: add one to SAMPLES',
  );
  const labKeys = Object.keys(schema.properties.lab?.properties ?? {});
  assert.ok(labKeys.includes('disk_gib') && labKeys.includes('data_disk_gib'));
});

for (const kind of Object.keys(NODES) as NodeKind[]) {
  const name = { harvester: 'a Harvester', os: 'an OS profile', iscsi: 'a diskless iSCSI' }[kind];
  test(`every setting of ${name} node is read (its files or its checks change) or reported as ignored where it is written`, async () => {
    const base = await compile([NODES[kind]]);
    assert.equal(base.diagnostics, [], `the base ${kind} node is clean`);
    const before = files(base.artifacts);
    const silent: string[] = [];
    for (const [field, sample] of Object.entries(SAMPLES)) {
      if (sample === null) continue;
      const [top, sub] = field.split('.') as [string, string | undefined];
      const node = { ...NODES[kind] } as Record<string, unknown>;
      if (sub !== undefined) node[top] = { ...((node[top] as object | undefined) ?? {}), [sub]: sample };
      else if (top === 'macs') delete node.mac;
      if (sub === undefined) node[top] = sample;
      if (top === 'mac') delete node.macs;
      const r = await compile([node]);
      const ignored = ignoredAt(r.diagnostics, `nodes[0].${field}`);
      const others = r.diagnostics.filter((d) => d.code !== 'NODE_SETTING_IGNORED');
      const after = files(r.artifacts);
      const changed = others.length > 0 || [...new Set([...before.keys(), ...after.keys()])].some((p) => before.get(p) !== after.get(p));
      if (ignored.length > 0) {
        // Reported as ignored: then nothing of the node changed, and the report says what to do.
        assert.not.ok(changed, `${kind} ${field}: reported as ignored but it changed the output or the checks`);
        assert.ok(ignored[0]!.line !== undefined && /ignored/.test(ignored[0]!.message) && /Remove it/.test(ignored[0]!.hint ?? ''));
      } else if (!changed) silent.push(field);
    }
    assert.equal(silent, [], `settings a ${kind} node drops in silence`);
  });
}

test('the three settings of the issue on an OS node are warned about at their line; boot.console and boot.kernel_args too in a site without Harvester nodes', async () => {
  const node = { ...NODES.os, kernel_args: ['console=ttyS0'], mtu: 9000 };
  const r = await compile([node], { boot: { server: 'http://10.0.0.1', kernel_args: ['quiet'], console: ['ttyS0'] } });
  const codes = r.diagnostics.map((d) => `${d.code} ${d.path} ${d.line}:${d.col}`);
  // At the key in the node's own lines (the nodes come last in the file).
  const at = r.diagnostics.find((d) => d.path === 'nodes[0].kernel_args');
  const text = readFileSync(at?.file ?? '', 'utf8').split('\n');
  assert.ok(at?.line !== undefined && text[at.line - 1]!.slice(at.col! - 1).startsWith('kernel_args:'), codes.join('\n'));
  assert.ok(
    codes.some((c) => c.startsWith('NODE_SETTING_IGNORED nodes[0].mtu ')),
    codes.join('\n'),
  );
  assert.ok(
    codes.some((c) => c.startsWith('NODE_SETTING_IGNORED boot.kernel_args ')),
    codes.join('\n'),
  );
  assert.ok(
    codes.some((c) => c.startsWith('NODE_SETTING_IGNORED boot.console ')),
    codes.join('\n'),
  );
  assert.ok(r.diagnostics.every((d) => d.severity === 'warning'));
  // A warning, so `check` passes unless --strict.
  const dir = tempDir('kinds');
  writeFileSync(join(dir, 'site.yaml'), stringify({ ...HEAD, nodes: [node] }));
  assert.ok((await check({ sites: [dir] })).ok);
  assert.not.ok((await check({ sites: [dir], strict: true })).ok);
});

test('a setting of a shared layer is reported only when no node takes it: `defaults.mtu` in a site of Harvester and OS nodes is read', async () => {
  const os = { ...NODES.os, hostname: 'w1', mac: '52:54:00:00:00:02', ip: '10.0.0.22' };
  const mixed = await compile([NODES.harvester, os], { defaults: { mtu: 9000 } });
  assert.equal(ignoredAt(mixed.diagnostics, 'defaults.mtu'), []);
  const osOnly = await compile([os], { defaults: { mtu: 9000 } });
  const d = ignoredAt(osOnly.diagnostics, 'defaults.mtu');
  assert.is(d.length, 1);
  assert.match(d[0]!.message, /node w1 \(an OS profile node\)/);
  // boot.console is read by the Harvester node of a mixed site: no warning there.
  const console = await compile([NODES.harvester, os], { boot: { server: 'http://10.0.0.1', console: ['ttyS0'] } });
  assert.equal(ignoredAt(console.diagnostics, 'boot.console'), []);
});

test('explain shows an OS node what it has: its profile and command line, no role, bond, config URL or kernel_args', async () => {
  const site = await compile([{ ...NODES.os, role: 'create' }]);
  const e = explainNode(site, findNode(site.model!, 'n1')!);
  const keys = e.values.map((v) => v.key);
  for (const k of ['os', 'os.kernel', 'os.initrds', 'state', 'ip', 'lab.vcpus', 'ipxe[52:54:00:00:00:01]', 'cmdline[52:54:00:00:00:01]'])
    assert.ok(keys.includes(k), `${k} in ${keys.join(' ')}`);
  for (const k of ['role', 'harvester_role', 'bond.mode', 'config_url', 'kernel_args', 'interfaces', 'harvester_version', 'cluster.vip'])
    assert.not.ok(keys.includes(k), `${k} shown for an OS node`);
  // The Harvester node still shows them all.
  const hv = await compile([NODES.harvester]);
  const hk = explainNode(hv, findNode(hv.model!, 'n1')!).values.map((v) => v.key);
  for (const k of ['role', 'harvester_role', 'bond.mode', 'config_url', 'kernel_args', 'interfaces', 'harvester_version', 'cluster.vip'])
    assert.ok(hk.includes(k), `${k} missing for a Harvester node`);
});

test('a node whose kind cannot be resolved is refused where the kind is chosen; the rules still judge the others, and nothing is rendered', async () => {
  const dir = tempDir('kinds');
  const { harvester: _h, ...noRelease } = HEAD;
  const nodes = [
    NODES.harvester,
    { ...NODES.os, hostname: 'w1', os: 'rockyy' },
    // Same MAC as w1's neighbour below, and an address in the DHCP range: both still reported.
    { ...NODES.os, hostname: 'w2', mac: '52:54:00:00:00:07', ip: '10.0.0.150' },
    { ...NODES.os, hostname: 'w3', mac: '52:54:00:00:00:07', ip: '10.0.0.23' },
  ];
  writeFileSync(join(dir, 'site.yaml'), stringify({ ...noRelease, nodes }));
  const r = await compileSite(dir);
  const codes = r.diagnostics.map((d) => `${d.code} ${d.path}`);
  for (const c of ['CLUSTER_SECTION_MISSING nodes[0]', 'OS_PROFILE_UNKNOWN nodes[1].os', 'NODE_IP_IN_DHCP_RANGE nodes[2].ip'])
    assert.ok(codes.includes(c), `${c} in\n${codes.join('\n')}`);
  assert.ok(
    codes.some((c) => c.startsWith('NODE_DUPLICATE_MAC')),
    codes.join('\n'),
  );
  // The cluster rules say nothing of a site whose nodes are not all known.
  assert.not.ok(
    codes.some((c) => c.startsWith('CLUSTER_NO_CREATE_NODE') || c.startsWith('CLUSTER_NO_NODES')),
    codes.join('\n'),
  );
  assert.equal(
    r.model?.nodes.map((n) => n.hostname),
    ['w2', 'w3'],
  );
  assert.is(r.artifacts, undefined);
  // explain still answers for a node that resolved.
  assert.ok(explainNode(r, findNode(r.model!, 'w2')!).values.some((v) => v.key === 'os'));
});

test('`boot.unknown: join` in a site without `harvester:` and `cluster:` is still refused', async () => {
  const dir = tempDir('kinds');
  const { harvester: _h, cluster: _c, ...head } = HEAD;
  writeFileSync(join(dir, 'site.yaml'), stringify({ ...head, boot: { server: 'http://10.0.0.1', unknown: 'join' }, nodes: [NODES.os] }));
  const r = await compileSite(dir);
  assert.ok(
    r.diagnostics.some((d) => d.code === 'BOOT_UNKNOWN_JOIN_INCOMPLETE' && d.path === 'boot.unknown'),
    JSON.stringify(r.diagnostics),
  );
});

test('`os: harvester` (the default kind) in defaults with an iSCSI node is no conflict; `role: create` on an OS node is ignored, so the first Harvester node creates', async () => {
  const iscsi = await compile([NODES.iscsi], { defaults: { os: 'harvester' } });
  assert.equal(iscsi.diagnostics, []);
  const os = { ...NODES.os, hostname: 'w1', mac: '52:54:00:00:00:02', ip: '10.0.0.22', role: 'create' };
  const r = await compile([os, NODES.harvester]);
  assert.equal(
    r.diagnostics.map((d) => `${d.code} ${d.path}`),
    ['NODE_SETTING_IGNORED nodes[0].role'],
  );
  const n1 = r.model!.nodes.find((n) => n.hostname === 'n1');
  assert.ok(n1?.boot === 'harvester' && n1.role === 'create');
});

test('settings the kind reads but the node cannot use: `state: install-once` on an iSCSI node, `cloud_init` under a profile with `cloud_init: false`', async () => {
  const iscsi = await compile([{ ...NODES.iscsi, state: 'install-once' }]);
  assert.equal(
    iscsi.diagnostics.map((d) => `${d.code} ${d.path}`),
    ['NODE_SETTING_IGNORED nodes[0].state'],
  );
  const profiles = { rocky: { ...HEAD.os_profiles.rocky, cloud_init: false } };
  const os = await compile([{ ...NODES.os, cloud_init: { user_data: { packages: ['tmux'] } } }], { os_profiles: profiles });
  assert.equal(
    os.diagnostics.map((d) => `${d.code} ${d.path}`),
    ['NODE_SETTING_IGNORED nodes[0].cloud_init'],
  );
});

test('sites/_defaults.yaml and profiles are shared by the sites of a repository: a site does not report what it ignores of them', async () => {
  const repo = tempDir('kinds-repo');
  mkdirSync(join(repo, '.git'));
  mkdirSync(join(repo, 'sites/_profiles'), { recursive: true });
  mkdirSync(join(repo, 'sites/lab'), { recursive: true });
  writeFileSync(join(repo, 'sites/_defaults.yaml'), stringify({ mtu: 9000, install: { tty: 'ttyS0' } }));
  writeFileSync(join(repo, 'sites/_profiles/r650.yaml'), stringify({ hardware: { memory_gib: 512 }, lab: { data_disk_gib: 200 } }));
  writeFileSync(join(repo, 'sites/lab/site.yaml'), stringify({ ...HEAD, site: 'lab', nodes: [{ ...NODES.os, profile: 'r650' }] }));
  const r = await compileSite(join(repo, 'sites/lab'));
  assert.equal(r.diagnostics, []);
});

test('a site without lab files reports every lab size where it is written (node and defaults)', async () => {
  const r = await compile([{ ...NODES.harvester, lab: { vcpus: 3, disk_gib: 300 } }], {
    outputs: { lab: false },
    defaults: { lab: { memory_mib: 8192 } },
  });
  for (const path of ['nodes[0].lab.vcpus', 'nodes[0].lab.disk_gib', 'defaults.lab.memory_mib']) {
    const d = ignoredAt(r.diagnostics, path);
    assert.is(d.length, 1, path);
    assert.match(d[0]!.message, 'writes no lab files');
    assert.ok(d[0]!.line !== undefined, `${path} is positioned`);
  }
  assert.not.ok(r.artifacts!.some((a) => a.path.startsWith('libvirt/')));
});

test.run();
