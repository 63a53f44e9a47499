// The installer's own rules (src/harvester/installer-rules.ts), one case on each side of every
// release boundary and every threshold: a site with one node whose hardware facts, release and
// settings put it just inside or just outside. Written from the installer's source (see each
// rule's `source`), not from the table: a rule that drifts from these cases fails here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { check } from '../src/index.ts';
import { INSTALLER_RULES, inReleases, partitionMib, RULES_IN_CI } from '../src/harvester/installer-rules.ts';
import { parseVersion } from '../src/harvester/versions.ts';
import { tempDir } from './helpers/tmp.ts';

type Doc = Record<string, unknown>;

interface Case {
  /** Release the node installs. */
  v: string;
  /** `hardware:` facts of the node. */
  hw?: Doc;
  /** Extra node settings (install, role, method, bond, config, ...). */
  node?: Doc;
  boot?: Doc;
  /** Codes of the installer rules expected (severity with `:w`), exactly. */
  want: string[];
}

/** One node's site: UEFI, static address, an explicit bond, no lab section (so only `hardware:` counts). */
function site(c: Case): string {
  const doc: Doc = {
    site: 'rules',
    harvester: { version: c.v, artifacts: `http://10.0.0.1/artifacts/${c.v}` },
    boot: { server: 'http://10.0.0.1', ...c.boot },
    network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' },
    cluster: { vip: '10.0.0.10', token: { env: 'RULES_TOKEN' }, password: { env: 'RULES_PASSWORD' } },
    nodes: [
      {
        hostname: 'n1',
        mac: '52:54:00:00:00:01',
        ip: '10.0.0.11',
        method: 'static',
        interfaces: [{ name: 'eno1' }],
        install: { device: '/dev/disk/by-id/os-disk' },
        ...(c.hw ? { hardware: c.hw } : {}),
        ...c.node,
      },
    ],
  };
  const dir = join(tempDir('installer-rules'), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}
process.env.RULES_TOKEN = 'token.12345';
process.env.RULES_PASSWORD = 'password.12345';

async function codes(c: Case): Promise<string[]> {
  const r = await check({ sites: [site(c)] });
  const other = r.diagnostics.filter(
    (d) => d.severity === 'error' && !d.code.startsWith('INSTALLER_') && d.code !== 'HARVESTER_BIOS_UNSUPPORTED',
  );
  assert.equal(
    other.map((d) => `${d.code} ${d.message}`),
    [],
    `${JSON.stringify(c)}: unrelated errors`,
  );
  return r.diagnostics
    .filter((d) => d.code.startsWith('INSTALLER_') || d.code === 'HARVESTER_BIOS_UNSUPPORTED')
    .map((d) => (d.severity === 'warning' ? `${d.code}:w` : d.code))
    .sort();
}

const PRE = 'INSTALLER_PREFLIGHT_FAILS';
const DISK = 'INSTALLER_DISK_TOO_SMALL';
const PART = 'INSTALLER_PARTITION_SIZE';
const SKIP = { skipchecks: true };
/** Facts that pass every preflight check and disk rule, to vary one at a time. */
const OK = { cpus: 16, memory_gib: 64, nic_speed_mbps: 10000, disk_gib: 480, virtualized: false, kvm: true };

const CASES: [string, Case][] = [
  // preflight: none before v1.3.0; production minimums fatal unless skipchecks
  ['cpu: v1.2.2 has no preflight', { v: 'v1.2.2', hw: { ...OK, cpus: 8 }, want: [] }],
  ['cpu: v1.3.0 stops at 15 threads', { v: 'v1.3.0', hw: { ...OK, cpus: 15 }, want: [PRE] }],
  ['cpu: v1.3.0 passes 16 threads', { v: 'v1.3.0', hw: { ...OK, cpus: 16 }, want: [] }],
  ['cpu: skipchecks lifts it', { v: 'v1.9.0', hw: { ...OK, cpus: 4 }, boot: SKIP, want: [] }],
  ['memory: v1.3.1 stops at 63 GiB', { v: 'v1.3.1', hw: { ...OK, memory_gib: 63 }, want: [PRE] }],
  ['memory: v1.3.1 passes 64 GiB', { v: 'v1.3.1', hw: { ...OK, memory_gib: 64 }, want: [] }],
  ['memory: v1.3.0 (MemTotal, 5% tolerance) stops at 62 GiB', { v: 'v1.3.0', hw: { ...OK, memory_gib: 62 }, want: [PRE] }],
  ['memory: v1.3.0 passes 63 GiB', { v: 'v1.3.0', hw: { ...OK, memory_gib: 63 }, want: [] }],
  ['memory: v1.2.2 has no preflight', { v: 'v1.2.2', hw: { ...OK, memory_gib: 16 }, want: [] }],
  ['nic: v1.3.0 stops at 1 Gbps', { v: 'v1.3.0', hw: { ...OK, nic_speed_mbps: 1000 }, want: [PRE] }],
  ['nic: v1.3.0 stops at 9999 Mbps', { v: 'v1.3.0', hw: { ...OK, nic_speed_mbps: 9999 }, want: [PRE] }],
  ['nic: v1.2.2 has no preflight', { v: 'v1.2.2', hw: { ...OK, nic_speed_mbps: 1000 }, want: [] }],
  ['vm: v1.3.0 stops a virtual machine', { v: 'v1.3.0', hw: { ...OK, virtualized: true }, want: [PRE] }],
  ['vm: v1.2.2 installs it', { v: 'v1.2.2', hw: { ...OK, virtualized: true }, want: [] }],
  ['vm: skipchecks lifts it', { v: 'v1.8.1', hw: { ...OK, virtualized: true }, boot: SKIP, want: [] }],
  ['kvm: v1.3.0 stops without /dev/kvm', { v: 'v1.3.0', hw: { ...OK, kvm: false }, want: [PRE] }],
  ['kvm: v1.2.2 does not check', { v: 'v1.2.2', hw: { ...OK, kvm: false }, want: [] }],
  // firmware
  ['bios: v1.6.1 installs BIOS', { v: 'v1.6.1', hw: OK, boot: { firmware: 'bios' }, want: [] }],
  ['bios: v1.7.0 stops BIOS (preflight)', { v: 'v1.7.0', hw: OK, boot: { firmware: 'bios' }, want: [PRE] }],
  ['bios: v1.7.1 with skipchecks installs', { v: 'v1.7.1', hw: OK, boot: { firmware: 'bios', ...SKIP }, want: [] }],
  [
    'bios: v1.8.0 refuses whatever skipchecks says',
    { v: 'v1.8.0', hw: OK, boot: { firmware: 'bios', ...SKIP }, want: ['HARVESTER_BIOS_UNSUPPORTED'] },
  ],
  // install and data disks: sizes floored to GiB; skipchecks lifts them only from v1.8.0
  ['disk: 249 GiB fails', { v: 'v1.7.1', hw: { ...OK, disk_gib: 249.9 }, want: [DISK] }],
  ['disk: 250 GiB passes', { v: 'v1.7.1', hw: { ...OK, disk_gib: 250 }, want: [] }],
  ['disk: skipchecks does not lift it in v1.7 (harvester#6064)', { v: 'v1.7.1', hw: { ...OK, disk_gib: 200 }, boot: SKIP, want: [DISK] }],
  [
    'disk: skipchecks lifts it from v1.8.0 (the default partition is then shrunk to fit: a warning)',
    { v: 'v1.8.0', hw: { ...OK, disk_gib: 200 }, boot: SKIP, want: [`${PART}:w`] },
  ],
  ['disk: v1.8.0 without skipchecks fails', { v: 'v1.8.0', hw: { ...OK, disk_gib: 200 }, want: [DISK] }],
  [
    'disk: 179 GiB with a data disk fails',
    {
      v: 'v1.5.1',
      hw: { ...OK, disk_gib: 179, data_disk_gib: 500 },
      node: { install: { device: '/dev/disk/by-id/os', data_disk: '/dev/disk/by-id/data' } },
      want: [DISK],
    },
  ],
  [
    'disk: 180 GiB with a data disk passes',
    {
      v: 'v1.5.1',
      hw: { ...OK, disk_gib: 180, data_disk_gib: 500 },
      node: { install: { device: '/dev/disk/by-id/os', data_disk: '/dev/disk/by-id/data' } },
      want: [],
    },
  ],
  [
    'data disk: 49 GiB fails',
    {
      v: 'v1.5.1',
      hw: { ...OK, disk_gib: 300, data_disk_gib: 49 },
      node: { install: { device: '/dev/disk/by-id/os', data_disk: '/dev/disk/by-id/data' } },
      want: [DISK],
    },
  ],
  [
    'data disk: 50 GiB passes',
    {
      v: 'v1.5.1',
      hw: { ...OK, disk_gib: 300, data_disk_gib: 50 },
      node: { install: { device: '/dev/disk/by-id/os', data_disk: '/dev/disk/by-id/data' } },
      want: [],
    },
  ],
  [
    'witness: v1.6.0 needs 180 GiB (179 fails)',
    { v: 'v1.6.0', hw: { ...OK, disk_gib: 179 }, node: { harvester_role: 'witness' }, want: [DISK] },
  ],
  ['witness: v1.6.0 passes 180 GiB', { v: 'v1.6.0', hw: { ...OK, disk_gib: 180 }, node: { harvester_role: 'witness' }, want: [] }],
  ['witness: v1.5.2 still needs 250 GiB', { v: 'v1.5.2', hw: { ...OK, disk_gib: 200 }, node: { harvester_role: 'witness' }, want: [DISK] }],
  // persistent partition: 150Gi minimum, at most disk - 74,866 MiB
  [
    'partition: 149Gi fails',
    { v: 'v1.7.1', hw: OK, node: { install: { device: '/dev/disk/by-id/os', persistent_partition_size: '149Gi' } }, want: [PART] },
  ],
  [
    'partition: 150Gi passes',
    { v: 'v1.7.1', hw: OK, node: { install: { device: '/dev/disk/by-id/os', persistent_partition_size: '150Gi' } }, want: [] },
  ],
  [
    'partition: v1.8.0 with skipchecks takes 100Gi',
    { v: 'v1.8.0', hw: OK, boot: SKIP, node: { install: { device: '/dev/disk/by-id/os', persistent_partition_size: '100Gi' } }, want: [] },
  ],
  [
    'partition: 226Gi fits 300 GiB',
    {
      v: 'v1.7.1',
      hw: { ...OK, disk_gib: 300 },
      node: { install: { device: '/dev/disk/by-id/os', persistent_partition_size: '226Gi' } },
      want: [],
    },
  ],
  [
    'partition: 227Gi does not fit 300 GiB',
    {
      v: 'v1.7.1',
      hw: { ...OK, disk_gib: 300 },
      node: { install: { device: '/dev/disk/by-id/os', persistent_partition_size: '227Gi' } },
      want: [PART],
    },
  ],
  [
    'partition: v1.8.0 with skipchecks shrinks it (a warning)',
    {
      v: 'v1.8.0',
      hw: { ...OK, disk_gib: 300 },
      boot: SKIP,
      node: { install: { device: '/dev/disk/by-id/os', persistent_partition_size: '227Gi' } },
      want: [`${PART}:w`],
    },
  ],
  ['partition: the default 150Gi fits 224 GiB (v1.8, skipchecks)', { v: 'v1.8.0', hw: { ...OK, disk_gib: 224 }, boot: SKIP, want: [] }],
  [
    'partition: the default 150Gi does not fit 223 GiB (with skipchecks, v1.8)',
    { v: 'v1.8.0', hw: { ...OK, disk_gib: 223 }, boot: SKIP, want: [`${PART}:w`] },
  ],
  // force_mbr
  [
    'force_mbr: UEFI refuses it',
    { v: 'v1.7.1', hw: OK, node: { config: { install: { force_mbr: true } } }, want: ['INSTALLER_FORCE_MBR'] },
  ],
  [
    'force_mbr: v1.7 BIOS takes it',
    { v: 'v1.7.1', hw: OK, boot: { firmware: 'bios', ...SKIP }, node: { config: { install: { force_mbr: true } } }, want: [] },
  ],
  [
    'force_mbr: from v1.8.0 the BIOS it needs is refused first (one error)',
    {
      v: 'v1.8.0',
      hw: OK,
      boot: { firmware: 'bios', ...SKIP },
      node: { config: { install: { force_mbr: true } } },
      want: ['HARVESTER_BIOS_UNSUPPORTED'],
    },
  ],
  [
    'force_mbr: an MBR install has no data partition, so no partition rule applies (v1.6 BIOS)',
    {
      v: 'v1.6.0',
      hw: OK,
      boot: { firmware: 'bios' },
      node: { install: { device: '/dev/disk/by-id/os', persistent_partition_size: '100Gi' }, config: { install: { force_mbr: true } } },
      want: [],
    },
  ],
  [
    'partition: a disk under the 73.1 GiB of system partitions fails even with skipchecks (v1.8)',
    { v: 'v1.8.0', hw: { ...OK, disk_gib: 50 }, boot: SKIP, want: [PART] },
  ],
  // known issues (warnings)
  ['lacp+dhcp: v1.6.1 is fine', { v: 'v1.6.1', hw: OK, node: { method: 'dhcp', bond: { mode: '802.3ad' } }, want: [] }],
  [
    'lacp+dhcp: v1.7.0 may fail (harvester#10885)',
    { v: 'v1.7.0', hw: OK, node: { method: 'dhcp', bond: { mode: '802.3ad' } }, want: ['INSTALLER_KNOWN_ISSUE:w'] },
  ],
  ['lacp+static: not affected', { v: 'v1.7.0', hw: OK, node: { bond: { mode: '802.3ad' } }, want: [] }],
  ['tg3: v1.7.1 is fine', { v: 'v1.7.1', hw: { ...OK, nic_driver: 'tg3' }, want: [] }],
  ['tg3: v1.8.0 breaks it (harvester#11266)', { v: 'v1.8.0', hw: { ...OK, nic_driver: 'tg3' }, want: ['INSTALLER_KNOWN_ISSUE:w'] }],
  ['qlcnic: v1.6.1 is fine', { v: 'v1.6.1', hw: { ...OK, nic_driver: 'qlcnic' }, want: [] }],
  ['qlcnic: v1.7.0 lacks it (harvester#9846)', { v: 'v1.7.0', hw: { ...OK, nic_driver: 'qlcnic' }, want: ['INSTALLER_KNOWN_ISSUE:w'] }],
  ['r8125: v1.7.0 is fine', { v: 'v1.7.0', hw: { ...OK, nic_driver: 'r8125' }, want: [] }],
  ['r8125: v1.7.1 lacks it (harvester#10518)', { v: 'v1.7.1', hw: { ...OK, nic_driver: 'r8125' }, want: ['INSTALLER_KNOWN_ISSUE:w'] }],
  ['ice: v1.7.0 is too old (harvester#9694)', { v: 'v1.7.0', hw: { ...OK, nic_driver: 'ice' }, want: ['INSTALLER_KNOWN_ISSUE:w'] }],
  ['ice: v1.6.1 is fine', { v: 'v1.6.1', hw: { ...OK, nic_driver: 'ice' }, want: [] }],
  // unknown facts: nothing is guessed
  ['no facts: no preflight or disk finding', { v: 'v1.9.0', want: [] }],
];

for (const [name, c] of CASES) {
  test(`${name}`, async () => {
    assert.equal(await codes(c), [...c.want].sort());
  });
}

test('a lab site takes the facts from its lab domains: location_x without skipchecks fails the preflight checks', async () => {
  const { exampleSite } = await import('./helpers/example.ts');
  const doc = exampleSite();
  (doc.boot as Doc).skipchecks = false;
  const dir = join(tempDir('installer-lab'), 'site');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const r = await check({ sites: [dir] });
  const pre = r.diagnostics.filter((d) => d.code === PRE);
  assert.equal(
    pre.map((d) => [d.path, /memory|CPU|virtual machine/.exec(d.message)?.[0]]),
    [
      ['lab', 'memory'],
      ['lab', 'CPU'],
      ['lab', 'virtual machine'],
    ],
  );
  assert.match(pre[0]!.message, /also nodes hv-2, hv-3/);
});

test('lab sizing on a site with no lab: section is not taken for a virtual machine', async () => {
  assert.equal(await codes({ v: 'v1.4.1', hw: { ...OK }, node: { lab: { vcpus: 4, memory_mib: 8192 } }, want: [] }), []);
});

test('INSTALLER_FORCE_MBR points at the layer that sets force_mbr, not the strongest config:', async () => {
  const dir = site({ v: 'v1.6.0', hw: OK, node: { config: { os: { ntp_servers: ['ntp.example'] } } }, want: [] });
  const doc = (await import('yaml')).parse((await import('node:fs')).readFileSync(join(dir, 'site.yaml'), 'utf8')) as Doc;
  doc.defaults = { config: { install: { force_mbr: true } } };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const r = await check({ sites: [dir] });
  const d = r.diagnostics.find((x) => x.code === 'INSTALLER_FORCE_MBR');
  assert.is(d?.path, 'defaults.config.install.force_mbr', JSON.stringify(r.diagnostics));
});

test('every rule names its source and a valid release range; the partition sizes parse as the installer does', () => {
  const v = parseVersion('v1.5.0')!;
  for (const r of INSTALLER_RULES) {
    assert.ok(r.source.length > 10, `${r.id}: no source`);
    inReleases(v, r.releases);
    if (r.lifted) inReleases(v, r.lifted);
  }
  assert.is(partitionMib('150Gi'), 153600);
  assert.is(partitionMib('1.5Gi'), undefined);
  assert.ok(inReleases(parseVersion('v1.8.0-rc2')!, '>=1.8.0'));
  assert.not.ok(inReleases(parseVersion('v1.7.9')!, '>=1.8.0'));
});

test("every rule says how CI judges it: by the installer's own code, or why not (the rules reference's column)", () => {
  const ids = INSTALLER_RULES.map((r) => r.id);
  assert.equal(Object.keys(RULES_IN_CI).sort(), [...ids].sort());
  for (const [id, j] of Object.entries(RULES_IN_CI)) if (j.by === 'not-run') assert.ok(j.why.length > 10, id);
});

test.run();
