// The installer rules judge the config the installer parses, whatever path a value took into it.
// A case table: one case per boundary and per path into the config (a node field, the node's
// `config:`, `defaults:` and its `config:`, a profile and its `config:`), on both sides of each
// threshold and at every release line where the installer changed. Every case names the place in
// harvester-installer's source that decides it (file, function, tag; read at each tag). A last
// test runs the `config:` cases with the rules pointed back at the inventory fields
// (HARVGEN_TEST_MUTATE=rules-read-fields) and requires them to fail.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { check, compileSite } from '../src/index.ts';
import { KNOWN_RELEASES } from '../src/harvester/releases.ts';
import { templateProblem } from '../src/harvester/webhooks.ts';
import { tempDir } from './helpers/tmp.ts';

type Doc = Record<string, unknown>;

/** Where a setting is written: as an inventory field or under `config:`, on the node, in `defaults:` or in a profile. */
type Path = 'node' | 'config' | 'defaults' | 'defaults-config' | 'profile' | 'profile-config';
const FIELD_PATHS: Path[] = ['node', 'defaults', 'profile'];
const CONFIG_PATHS: Path[] = ['config', 'defaults-config', 'profile-config'];
const ALL: Path[] = [...FIELD_PATHS, ...CONFIG_PATHS];

/** A setting as an inventory field (node-level keys) and as the config keys it becomes. */
interface Setting {
  field?: Doc;
  config?: Doc;
}

interface Case {
  v: string;
  hw?: Doc;
  set?: Setting;
  /** Node keys that stay on the node whatever the path (hostname, install.device, ...). */
  node?: Doc;
  boot?: Doc;
  cluster?: Doc;
  /** More Harvester nodes (for the lifecycle cases). */
  more?: Doc[];
  /** Codes expected among the watched ones (warnings with `:w`), exactly. */
  want: string[];
  /** The installer source that decides the case: file, function, tag. */
  src: string;
}

const WATCHED = /^(INSTALLER_|HARVESTER_|NODE_WITNESS_DATA_DISK|CLUSTER_)/;

function merge(a: Doc | undefined, b: Doc | undefined): Doc {
  const out: Doc = { ...a };
  for (const [k, v] of Object.entries(b ?? {})) {
    const u = out[k];
    out[k] =
      u && v && typeof u === 'object' && typeof v === 'object' && !Array.isArray(u) && !Array.isArray(v) ? merge(u as Doc, v as Doc) : v;
  }
  return out;
}

/** The site of a case with its setting written at `path`; returns the site directory. */
function site(c: Case, path: Path): string {
  const setting = path.endsWith('config') || path === 'config' ? { config: c.set?.config ?? {} } : (c.set?.field ?? {});
  const hasSetting = c.set !== undefined && (path.includes('config') ? c.set.config !== undefined : c.set.field !== undefined);
  const layer = hasSetting ? setting : {};
  const node: Doc = merge(
    {
      hostname: 'n1',
      mac: '52:54:00:00:00:01',
      ip: '10.0.0.11',
      interfaces: [{ name: 'eno1' }],
      install: { device: '/dev/disk/by-id/os-disk' },
      ...(c.hw ? { hardware: c.hw } : {}),
      ...(path.startsWith('profile') ? { profile: 'p' } : {}),
    },
    merge(c.node, path === 'node' || path === 'config' ? layer : {}),
  );
  const doc: Doc = {
    site: 'truth',
    harvester: { version: c.v, artifacts: `http://10.0.0.1/artifacts/${c.v}` },
    boot: { server: 'http://10.0.0.1', ...c.boot },
    network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' },
    cluster: { vip: '10.0.0.10', token: { env: 'TRUTH_TOKEN' }, password: { env: 'TRUTH_PASSWORD' }, ...c.cluster },
    ...(path.startsWith('defaults') ? { defaults: layer } : {}),
    nodes: [
      { role: 'create', ...node },
      ...(c.more ?? []).map((m, i) => ({
        hostname: `m${i + 2}`,
        mac: `52:54:00:00:00:0${i + 2}`,
        ip: `10.0.0.${i + 12}`,
        method: 'static',
        install: { device: '/dev/disk/by-id/os-disk' },
        ...m,
      })),
    ],
  };
  const root = tempDir('installer-truth');
  mkdirSync(join(root, '.git'));
  const dir = join(root, 'sites', 'truth');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  if (path.startsWith('profile')) {
    mkdirSync(join(root, 'sites', '_profiles'));
    writeFileSync(join(root, 'sites', '_profiles', 'p.yaml'), stringify(layer));
  }
  return dir;
}
process.env.TRUTH_TOKEN = 'token.12345';
process.env.TRUTH_PASSWORD = 'password.12345';

/** The watched codes a case's site gets (and the diagnostics, for messages); fails on any other error. */
async function run(c: Case, path: Path): Promise<{ codes: string[]; paths: string[]; messages: string[] }> {
  const r = await check({ sites: [site(c, path)] });
  const other = r.diagnostics.filter((d) => d.severity === 'error' && !WATCHED.test(d.code));
  assert.equal(
    other.map((d) => `${d.code} ${d.message}`),
    [],
    `${path} ${JSON.stringify(c)}: unrelated errors`,
  );
  const watched = r.diagnostics.filter((d) => WATCHED.test(d.code));
  return {
    codes: watched.map((d) => (d.severity === 'warning' ? `${d.code}:w` : d.code)).sort(),
    paths: watched.map((d) => `${d.code} ${d.path ?? ''}`),
    messages: watched.map((d) => d.message),
  };
}

const PRE = 'INSTALLER_PREFLIGHT_FAILS';
const DISK = 'INSTALLER_DISK_TOO_SMALL';
const PART = 'INSTALLER_PARTITION_SIZE';
const HOOK = 'INSTALLER_WEBHOOK_INVALID';
const WIT = 'NODE_WITNESS_DATA_DISK:w';
const REINSTALL = 'CLUSTER_CREATE_NODE_REINSTALL';
/** Facts that pass every preflight check, to vary one at a time. */
const OK = { cpus: 16, memory_gib: 64, nic_speed_mbps: 10000, disk_gib: 480, virtualized: false, kvm: true };

const part = (size: string): Setting => ({
  field: { install: { persistent_partition_size: size } },
  config: { install: { persistent_partition_size: size } },
});
const dataDisk: Setting = {
  field: { install: { data_disk: '/dev/disk/by-id/data-disk' } },
  config: { install: { data_disk: '/dev/disk/by-id/data-disk' } },
};
const witness: Setting = { field: { harvester_role: 'witness' }, config: { install: { role: 'witness' } } };
const witnessData: Setting = {
  field: { harvester_role: 'witness', install: { data_disk: '/dev/disk/by-id/data-disk' } },
  config: { install: { role: 'witness', data_disk: '/dev/disk/by-id/data-disk' } },
};
const skipchecks: Setting = { config: { install: { skipchecks: true } } };
const hooks = (...list: Doc[]): Setting => ({ config: { install: { webhooks: list } } });
const hook = (h: Doc): Doc => ({ event: 'SUCCEEDED', method: 'GET', url: 'http://10.0.0.1/done/{{.Hostname}}', ...h });
const lacpDhcp: Setting = {
  field: { method: 'dhcp', bond: { mode: '802.3ad' } },
  config: { install: { management_interface: { method: 'dhcp', bond_options: { mode: '802.3ad' } } } },
};
const reinstall: Setting = { field: { reinstall: 2, state: 'install-once' } };

const DISK_SRC = 'pkg/console/validator.go checkDevice, util.go validateDiskSize';
const PART_SRC = 'pkg/util/disk.go ParsePartitionSize; config/cos.go calcCosPersistentPartSize (ShouldCreateDataPartitionOnOsDisk)';
const HOOK_SRC = 'pkg/console/webhooks.go PrepareWebhooks, prepareWebhook';

/** [name, case, the paths it runs through]. */
const CASES: [string, Case, Path[]][] = [
  // persistent partition: the 150Gi minimum, the disk maximum, skipchecks from v1.8.0
  ['partition 149Gi stops v1.2.2', { v: 'v1.2.2', hw: OK, set: part('149Gi'), want: [PART], src: `${PART_SRC} @v1.2.2` }, ALL],
  ['partition 149Gi stops v1.5.2', { v: 'v1.5.2', hw: OK, set: part('149Gi'), want: [PART], src: `${PART_SRC} @v1.5.2` }, ALL],
  ['partition 150Gi passes v1.5.2', { v: 'v1.5.2', hw: OK, set: part('150Gi'), want: [], src: `${PART_SRC} @v1.5.2` }, ALL],
  [
    'partition 149Gi stops v1.7.1 with skipchecks',
    { v: 'v1.7.1', hw: OK, boot: { skipchecks: true }, set: part('149Gi'), want: [PART], src: `${PART_SRC} (no skip) @v1.7.1` },
    ALL,
  ],
  [
    'partition 100Gi passes v1.8.1 with skipchecks',
    { v: 'v1.8.1', hw: OK, boot: { skipchecks: true }, set: part('100Gi'), want: [], src: `${PART_SRC} (skipChecks) @v1.8.0` },
    ALL,
  ],
  [
    'partition 149Gi stops v1.9.0',
    { v: 'v1.9.0', hw: OK, set: part('149Gi'), want: [PART], src: `${PART_SRC} @v1.9.0-dev-20260621 (same blob as v1.8.1)` },
    ALL,
  ],
  [
    'partition 226Gi fits 300 GiB',
    { v: 'v1.6.1', hw: { ...OK, disk_gib: 300 }, set: part('226Gi'), want: [], src: `${PART_SRC} fixedOccupiedSize @v1.6.1` },
    ALL,
  ],
  [
    'partition 227Gi does not fit 300 GiB',
    { v: 'v1.6.1', hw: { ...OK, disk_gib: 300 }, set: part('227Gi'), want: [PART], src: `${PART_SRC} fixedOccupiedSize @v1.6.1` },
    ALL,
  ],
  [
    'partition 227Gi on 300 GiB is clamped by v1.8.0 with skipchecks',
    {
      v: 'v1.8.0',
      hw: { ...OK, disk_gib: 300 },
      boot: { skipchecks: true },
      set: part('227Gi'),
      want: [`${PART}:w`],
      src: `${PART_SRC} (clamp) @v1.8.0`,
    },
    ALL,
  ],
  [
    'partition with a data disk is not checked',
    {
      v: 'v1.5.2',
      hw: { ...OK, data_disk_gib: 100 },
      set: {
        field: { install: { persistent_partition_size: '10Gi', data_disk: '/dev/disk/by-id/d' } },
        config: { install: { persistent_partition_size: '10Gi', data_disk: '/dev/disk/by-id/d' } },
      },
      want: [],
      src: 'pkg/config/config.go ShouldCreateDataPartitionOnOsDisk @v1.5.2',
    },
    ALL,
  ],
  // data disk: lowers the install minimum to 180 GiB; itself needs 50 GiB
  [
    'data disk lowers the install minimum: 200 GiB passes',
    { v: 'v1.5.2', hw: { ...OK, disk_gib: 200, data_disk_gib: 100 }, set: dataDisk, want: [], src: `${DISK_SRC} (single=false) @v1.5.2` },
    ALL,
  ],
  [
    'data disk: install disk 179 GiB stops',
    { v: 'v1.5.2', hw: { ...OK, disk_gib: 179, data_disk_gib: 100 }, set: dataDisk, want: [DISK], src: `${DISK_SRC} @v1.5.2` },
    ALL,
  ],
  [
    'no data disk: install disk 249 GiB stops',
    { v: 'v1.7.1', hw: { ...OK, disk_gib: 249 }, want: [DISK], src: `${DISK_SRC} (single) @v1.7.1` },
    ['node'],
  ],
  [
    'no data disk: install disk 250 GiB passes',
    { v: 'v1.7.1', hw: { ...OK, disk_gib: 250 }, want: [], src: `${DISK_SRC} (single) @v1.7.1` },
    ['node'],
  ],
  [
    'data disk 49 GiB stops v1.4.3',
    {
      v: 'v1.4.3',
      hw: { ...OK, data_disk_gib: 49 },
      set: dataDisk,
      want: [DISK],
      src: 'pkg/console/util.go validateDataDiskSize (HardMinDataDiskSizeGiB) @v1.4.3',
    },
    ALL,
  ],
  [
    'data disk 50 GiB passes v1.4.3',
    { v: 'v1.4.3', hw: { ...OK, data_disk_gib: 50 }, set: dataDisk, want: [], src: 'pkg/console/util.go validateDataDiskSize @v1.4.3' },
    ALL,
  ],
  [
    'data disk 49 GiB passes v1.8.0 with skipchecks',
    {
      v: 'v1.8.0',
      hw: { ...OK, data_disk_gib: 49 },
      boot: { skipchecks: true },
      set: dataDisk,
      want: [],
      src: `${DISK_SRC} (SkipChecks first) @v1.8.0`,
    },
    ALL,
  ],
  // role: a witness from v1.6.0 needs 180 GiB; before it, the node's disks decide
  [
    'witness v1.6.0: 180 GiB passes',
    { v: 'v1.6.0', hw: { ...OK, disk_gib: 180 }, set: witness, want: [], src: `${DISK_SRC} (RoleWitness branch) @v1.6.0` },
    ALL,
  ],
  [
    'witness v1.6.0: 179 GiB stops',
    { v: 'v1.6.0', hw: { ...OK, disk_gib: 179 }, set: witness, want: [DISK], src: `${DISK_SRC} (RoleWitness branch) @v1.6.0` },
    ALL,
  ],
  [
    'witness v1.5.2 without data disk: 249 GiB stops',
    { v: 'v1.5.2', hw: { ...OK, disk_gib: 249 }, set: witness, want: [DISK], src: `${DISK_SRC} (no witness case) @v1.5.2` },
    ALL,
  ],
  [
    'witness v1.3.0 with a data disk: 180 GiB passes (a warning says it is used)',
    {
      v: 'v1.3.0',
      hw: { ...OK, disk_gib: 180, data_disk_gib: 60 },
      set: witnessData,
      want: [WIT],
      src: `${DISK_SRC} (single=false, no witness case) @v1.3.0`,
    },
    ALL,
  ],
  [
    'witness v1.5.2 with a data disk: data disk 49 GiB stops',
    {
      v: 'v1.5.2',
      hw: { ...OK, disk_gib: 300, data_disk_gib: 49 },
      set: witnessData,
      want: [DISK, WIT],
      src: 'pkg/console/util.go validateDataDiskSize (no witness case) @v1.5.2',
    },
    ALL,
  ],
  [
    'witness v1.6.1 with a data disk: not size-checked',
    {
      v: 'v1.6.1',
      hw: { ...OK, disk_gib: 180, data_disk_gib: 10 },
      set: witnessData,
      want: [WIT],
      src: `${DISK_SRC} (RoleWitness branch skips the data disk) @v1.6.1`,
    },
    ALL,
  ],
  [
    'witness v1.6.1: its partition size is ignored',
    {
      v: 'v1.6.1',
      hw: OK,
      set: {
        field: { harvester_role: 'witness', install: { persistent_partition_size: '10Gi' } },
        config: { install: { role: 'witness', persistent_partition_size: '10Gi' } },
      },
      want: [WIT],
      src: 'pkg/config/config.go ShouldCreateDataPartitionOnOsDisk (witness) @v1.6.1',
    },
    ALL,
  ],
  [
    'a config: role over a witness field raises the minimum again (v1.6.0)',
    {
      v: 'v1.6.0',
      hw: { ...OK, disk_gib: 200 },
      node: { harvester_role: 'witness' },
      set: { config: { install: { role: 'default' } } },
      want: [DISK],
      src: `${DISK_SRC} (role default: single) @v1.6.0`,
    },
    CONFIG_PATHS,
  ],
  // skipchecks: from the kernel line or the config; none in v1.2
  [
    'skipchecks under config: lifts the CPU check (v1.3.0)',
    {
      v: 'v1.3.0',
      hw: { ...OK, cpus: 8 },
      set: skipchecks,
      want: [],
      src: 'pkg/console/install_panels.go (SkipChecks: preflight warnings only), config.Merge @v1.3.0',
    },
    CONFIG_PATHS,
  ],
  [
    'no skipchecks: 8 CPUs stop v1.3.0',
    { v: 'v1.3.0', hw: { ...OK, cpus: 8 }, want: [PRE], src: 'pkg/preflight/checks.go CPUCheck @v1.3.0' },
    ['node'],
  ],
  [
    'skipchecks under config: does not lift the disk minimum before v1.8.0',
    { v: 'v1.7.1', hw: { ...OK, disk_gib: 200 }, set: skipchecks, want: [DISK], src: `${DISK_SRC} (no skip) @v1.7.1` },
    CONFIG_PATHS,
  ],
  [
    'skipchecks under config: lifts the disk minimum from v1.8.0',
    { v: 'v1.8.1', hw: { ...OK, disk_gib: 300 }, set: skipchecks, want: [], src: `${DISK_SRC} (SkipChecks) @v1.8.0` },
    CONFIG_PATHS,
  ],
  [
    'boot.skipchecks on v1.2.2 is ignored (a warning)',
    {
      v: 'v1.2.2',
      hw: OK,
      boot: { skipchecks: true },
      want: ['INSTALLER_SKIPCHECKS_IGNORED:w'],
      src: 'pkg/config/config.go (no SkipChecks field) @v1.2.2',
    },
    ['node'],
  ],
  [
    'boot.skipchecks on v1.3.0 is not ignored',
    { v: 'v1.3.0', hw: OK, boot: { skipchecks: true }, want: [], src: 'pkg/config/config.go Install.SkipChecks @v1.3.0' },
    ['node'],
  ],
  // force_mbr under any layer's config:
  [
    'force_mbr on UEFI stops v1.7.1',
    {
      v: 'v1.7.1',
      hw: OK,
      set: { config: { install: { force_mbr: true } } },
      want: ['INSTALLER_FORCE_MBR'],
      src: 'pkg/console/validator.go checkForceMBR @v1.7.1',
    },
    CONFIG_PATHS,
  ],
  // a DHCP management network on an LACP bond (known issue, v1.7.0 and later)
  [
    'dhcp on 802.3ad: a warning on v1.7.0',
    {
      v: 'v1.7.0',
      hw: OK,
      set: lacpDhcp,
      want: ['INSTALLER_KNOWN_ISSUE:w'],
      src: 'pkg/config/cos.go UpdateManagementInterfaceConfig @v1.7.0 (harvester#10885)',
    },
    ALL,
  ],
  ['dhcp on 802.3ad: fine on v1.6.1', { v: 'v1.6.1', hw: OK, set: lacpDhcp, want: [], src: 'pkg/config/cos.go @v1.6.1' }, ALL],
  // webhooks as PrepareWebhooks prepares them
  [
    'webhook: a lower-case method is upper-cased and accepted',
    { v: 'v1.5.2', hw: OK, set: hooks(hook({ method: 'post' })), want: [], src: `${HOOK_SRC} (strings.ToUpper) @v1.5.2` },
    CONFIG_PATHS,
  ],
  [
    'webhook: no method drops every webhook',
    {
      v: 'v1.5.2',
      hw: OK,
      set: hooks({ event: 'STARTED', url: 'http://10.0.0.1/s' }),
      want: [HOOK],
      src: `${HOOK_SRC} IsValidHTTPMethod("") @v1.5.2`,
    },
    CONFIG_PATHS,
  ],
  [
    'webhook: a made-up method',
    { v: 'v1.8.1', hw: OK, set: hooks(hook({ method: 'FETCH' })), want: [HOOK], src: `${HOOK_SRC} IsValidHTTPMethod @v1.8.1` },
    CONFIG_PATHS,
  ],
  [
    'webhook: the event keeps its case',
    { v: 'v1.2.2', hw: OK, set: hooks(hook({ event: 'started' })), want: [HOOK], src: `${HOOK_SRC} IsValidEvent @v1.2.2` },
    CONFIG_PATHS,
  ],
  [
    'webhook: the four fields of the context',
    {
      v: 'v1.6.0',
      hw: OK,
      set: hooks(
        hook({
          url: 'http://10.0.0.1/{{.Hostname}}/{{ .MACAddr }}?a={{- .IPAddrV4 -}}&b={{.IPAddrV6}}{{/* note */}}',
          payload: '{"host":"{{.Hostname}}"}',
        }),
      ),
      want: [],
      src: `${HOOK_SRC} getWebhookContext @v1.6.0`,
    },
    CONFIG_PATHS,
  ],
  [
    'webhook: an unclosed action in the url',
    {
      v: 'v1.6.0',
      hw: OK,
      set: hooks(hook({ url: 'http://10.0.0.1/{{.Hostname' })),
      want: [HOOK],
      src: `${HOOK_SRC} template.Parse @v1.6.0`,
    },
    CONFIG_PATHS,
  ],
  [
    'webhook: a pipeline in the payload',
    {
      v: 'v1.7.1',
      hw: OK,
      set: hooks(hook({ payload: '{{ .Hostname | printf "%q" }}' })),
      want: [HOOK],
      src: `${HOOK_SRC} (harvgen's subset of text/template) @v1.7.1`,
    },
    CONFIG_PATHS,
  ],
  [
    'webhook: a field the context lacks',
    {
      v: 'v1.7.1',
      hw: OK,
      set: hooks(hook({ url: 'http://10.0.0.1/{{.hostname}}' })),
      want: [HOOK],
      src: `${HOOK_SRC} getWebhookContext (missingkey=zero) @v1.7.1`,
    },
    CONFIG_PATHS,
  ],
  // releases to the patch
  [
    'v1.5.9 was never published',
    { v: 'v1.5.9', hw: OK, want: ['HARVESTER_RELEASE_UNKNOWN:w'], src: 'final tags of harvester-installer (v1.5.0, v1.5.1, v1.5.2)' },
    ['node'],
  ],
  ['v1.7.2 was published', { v: 'v1.7.2', hw: OK, want: [], src: 'harvester/harvester release v1.7.2' }, ['node']],
  // the create node never reinstalls in create mode while other nodes may hold the cluster
  [
    'create node with a reinstall generation',
    {
      v: 'v1.5.2',
      set: reinstall,
      more: [{ state: 'install-once' }],
      want: [REINSTALL],
      src: 'pkg/console/validator.go Validate (create: checkVip only, no probe of an existing cluster) @v1.5.2',
    },
    FIELD_PATHS,
  ],
  [
    'create node with a reinstall generation, cluster created',
    {
      v: 'v1.5.2',
      set: reinstall,
      cluster: { created: true },
      node: { role: undefined },
      more: [{ state: 'install-once' }],
      want: [],
      src: 'pkg/console/validator.go Validate (join mode) @v1.5.2',
    },
    FIELD_PATHS,
  ],
  [
    'create node state: install beside install-once nodes',
    {
      v: 'v1.6.1',
      set: { field: { state: 'install' } },
      more: [{ state: 'install-once' }],
      want: [REINSTALL],
      src: 'pkg/console/validator.go Validate (create: no existing-cluster check) @v1.6.1',
    },
    FIELD_PATHS,
  ],
  [
    'create node keeps the built-in state: install beside an install-once node',
    { v: 'v1.6.1', more: [{ state: 'install-once' }], want: [REINSTALL], src: 'pkg/console/validator.go Validate @v1.6.1' },
    ['node'],
  ],
  [
    'every node state: install (the whole site installs afresh)',
    { v: 'v1.6.1', more: [{}], want: [], src: 'pkg/console/validator.go Validate @v1.6.1' },
    ['node'],
  ],
  [
    "install.mode: create under a joining node's config: is a second create node",
    {
      v: 'v1.6.1',
      more: [{ role: 'join', config: { install: { mode: 'create', vip: '10.0.0.10', vip_mode: 'static' } } }],
      want: ['CLUSTER_MULTIPLE_CREATE_NODES'],
      src: 'pkg/config/config.go Install.Mode; console/util.go doInstall (create) @v1.6.1',
    },
    ['node'],
  ],
];

for (const [name, c, paths] of CASES) {
  for (const path of paths) {
    test(`${name} [${path}]`, async () => {
      assert.equal((await run(c, path)).codes, [...c.want].sort());
    });
  }
}

test('every case names the installer source that decides it, and there is one per path into the config', () => {
  const paths = new Set<Path>();
  for (const [name, c, ps] of CASES) {
    assert.ok(/@v\d|release|tags/.test(c.src), `${name}: no tag in its source`);
    ps.forEach((p) => paths.add(p));
  }
  assert.equal([...paths].sort(), [...ALL].sort());
  const n = CASES.reduce((sum, [, , ps]) => sum + ps.length, 0);
  assert.ok(n >= 150, `${n} cases`);
});

test('the diagnostic points at the line that set the value: node field, config:, defaults:, profile', async () => {
  const c: Case = { v: 'v1.5.2', hw: OK, set: part('149Gi'), want: [PART], src: '' };
  const at = async (p: Path) => (await run(c, p)).paths.find((x) => x.startsWith(PART));
  assert.is(await at('node'), `${PART} nodes[0].install.persistent_partition_size`);
  assert.is(await at('config'), `${PART} nodes[0].config.install.persistent_partition_size`);
  assert.is(await at('defaults'), `${PART} defaults.install.persistent_partition_size`);
  assert.is(await at('defaults-config'), `${PART} defaults.config.install.persistent_partition_size`);
  assert.match((await at('profile')) ?? '', /p.*install\.persistent_partition_size$/);
  assert.match((await at('profile-config')) ?? '', /p.*config\.install\.persistent_partition_size$/);
  // A webhook's bad method: at its list item's key.
  const h = await run({ v: 'v1.5.2', hw: OK, set: hooks(hook({}), hook({ method: 'FETCH' })), want: [HOOK], src: '' }, 'config');
  assert.equal(h.paths, [`${HOOK} nodes[0].config.install.webhooks[1].method`]);
});

test("a value set by a field stays the field's beside an unrelated config: key of the same map", async () => {
  const c: Case = {
    v: 'v1.5.2',
    hw: OK,
    set: { field: { install: { persistent_partition_size: '100Gi' } } },
    node: { config: { install: { tty: 'ttyS0' } } },
    want: [PART],
    src: '',
  };
  const r = await run(c, 'node');
  assert.equal(r.paths, [`${PART} nodes[0].install.persistent_partition_size`]);
  assert.not.match(r.messages[0]!, /under `config:`/);
  // And the create mode of a node whose `config:` sets other install keys is its role's.
  const two = await run(
    {
      v: 'v1.6.1',
      node: { config: { install: { tty: 'ttyS0' } } },
      more: [{ role: 'create', config: { install: { tty: 'ttyS0' } } }],
      want: [],
      src: '',
    },
    'node',
  );
  assert.equal(two.paths, ['CLUSTER_MULTIPLE_CREATE_NODES nodes[1].role']);
});

test('no installer rule reads an inventory field: a rule sees the node only through its config, facts and firmware', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const dir = new URL('../src/harvester/installer-rules/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length > 1);
  const src = files.map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
  const reads = [...src.matchAll(/\bs\.node\.([A-Za-z]+)/g)].map((m) => m[1]);
  assert.equal([...new Set(reads)], ['hostname']);
});

test('the install device given only under config: is the device (no NODE_DEVICE_MISSING); the disk rules judge it', async () => {
  const dir = site({ v: 'v1.5.2', hw: { ...OK, disk_gib: 200 }, want: [], src: '' }, 'node');
  const file = join(dir, 'site.yaml');
  const doc = parse((await import('node:fs')).readFileSync(file, 'utf8')) as { nodes: Doc[] };
  doc.nodes[0]!.install = {};
  doc.nodes[0]!.config = { install: { device: '/dev/disk/by-id/os', data_disk: '/dev/disk/by-id/os' } };
  writeFileSync(file, stringify(doc));
  const r = await check({ sites: [dir] });
  // data_disk equal to device is cleared by the installer: a single disk, 250 GiB.
  assert.equal(
    r.diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => `${d.code} ${d.path}`)
      .sort(),
    [`${DISK} nodes[0].hardware.disk_gib`, 'NODE_DATA_DISK_IS_DEVICE nodes[0].config.install.data_disk'],
  );
});

test('a witness config is what the rules judged: data_disk written before v1.6.0, left out from it', async () => {
  const installOf = async (v: string) => {
    const dir = site({ v, hw: { ...OK, data_disk_gib: 100 }, set: witnessData, want: [], src: '' }, 'node');
    const r = await compileSite(dir);
    const file = r.artifacts?.find((a) => a.path === 'harvester/n1.yaml');
    assert.ok(file, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
    return (parse(file.contents as string) as { install: Doc }).install;
  };
  const old = await installOf('v1.5.2');
  assert.is(old.role, 'witness');
  assert.is(old.data_disk, '/dev/disk/by-id/data-disk');
  const now = await installOf('v1.6.0');
  assert.is(now.role, 'witness');
  assert.is(now.data_disk, undefined);
});

test('the template subset: what passes is Go text/template that parses; the rest names its position', () => {
  assert.match(templateProblem('{{/* a */ b */}}') ?? '', /does not accept/, 'a comment ends at its first */ (Go refuses the rest)');
  for (const ok of ['plain', '{{.Hostname}}', '{{ .MACAddr }}', '{{- .IPAddrV4 -}}', 'a{{/* x */}}b', '}} alone']) {
    assert.is(templateProblem(ok), undefined, ok);
  }
  assert.match(templateProblem('ab{{if .Hostname}}x{{end}}') ?? '', /at character 3/);
  assert.match(templateProblem('{{.Hostname') ?? '', /never closed/);
  assert.match(templateProblem('{{.hostName}}') ?? '', /did you mean \{\{\.Hostname\}\}/);
  assert.match(templateProblem('{{-.Hostname}}') ?? '', /does not accept/);
});

test('the release table: each release once, in order, with where it was seen', () => {
  const seen = new Set<string>();
  let last = [0, 0, 0];
  for (const r of KNOWN_RELEASES) {
    assert.not.ok(seen.has(r.version), r.version);
    seen.add(r.version);
    const n = r.version.slice(1).split('.').map(Number);
    assert.ok(n[0]! > last[0]! || (n[0] === last[0] && (n[1]! > last[1]! || (n[1] === last[1] && n[2]! > last[2]!))), r.version);
    last = n;
    assert.ok(r.source.length > 10, r.version);
  }
});

test('mutation: rules that read the inventory fields instead of the effective config fail the config: cases', async () => {
  // The config: cases whose setting decides the outcome (without it the codes differ).
  const decisive: [Case, Path][] = [];
  for (const [, c, paths] of CASES) {
    if (c.set?.config === undefined) continue;
    const config = paths.filter((p) => CONFIG_PATHS.includes(p));
    if (config.length === 0) continue;
    const without = (await run({ ...c, set: undefined }, 'node')).codes;
    if (JSON.stringify(without) !== JSON.stringify([...c.want].sort())) for (const p of config) decisive.push([c, p]);
  }
  assert.ok(decisive.length >= 40, `${decisive.length} decisive config: cases`);
  process.env.HARVGEN_TEST_MUTATE = 'rules-read-fields';
  try {
    const passed: string[] = [];
    for (const [c, p] of decisive) {
      // Caught only when the run completes with other codes (a crash or an unrelated error is not).
      const got = await run(c, p);
      if (JSON.stringify(got.codes) === JSON.stringify([...c.want].sort())) passed.push(`${p} ${c.src}`);
    }
    assert.equal(passed, [], 'these config: cases still passed with the rules reading inventory fields');
  } finally {
    delete process.env.HARVGEN_TEST_MUTATE;
  }
});

test.run();
