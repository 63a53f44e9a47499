/**
 * The installer corpus: mutations of the values the Harvester installer reads, generated here (not
 * recorded), each applied to a small valid site at one release. A mutation changes one value on one
 * path into the node's config: an inventory field, a key under the node's `config:` (passed through
 * to the config), or a site setting; `cfg` is the same change made to the config file itself, for
 * an inventory harvgen refuses before it has a model (a schema error): the installer is then judged
 * on the config harvgen would have written had it let the value through.
 *
 * Families: install and data disks, wipe lists, install modes and roles, the console, VIP mode,
 * address and MAC, the management network (method, address, mask, gateway, MTU, VLAN, bond, NICs),
 * hostnames, DNS, NTP, credentials, the token, `server_url`, sizes, booleans and numbers as text,
 * the cluster's CIDRs, and `config:` pass-through keys (modules, sysctls, files, system settings,
 * webhooks, SANs, cordoned).
 */

type Doc = Record<string, unknown>;

/** The node a mutation is judged on: `n1` creates the cluster (DHCP), `n2` joins it (static). */
export type Target = 'n1' | 'n2';

export interface Mutation {
  /** `<config key> <route> = <value>`: stable, and what the over-strict table names. */
  id: string;
  family: string;
  target: Target;
  /** Change the inventory (a parsed site.yaml). */
  inv: (site: Doc) => void;
  /** The same change to the target node's config (a key path and its value); absent: the config is unchanged. */
  cfg?: [key: string, value: unknown];
  /** More changes to the config, with `cfg`. */
  cfgMore?: [key: string, value: unknown][];
  /** The same change to the machine the installer runs on (run-oracle.sh's ORACLE_* variables). */
  machine?: Record<string, string>;
}

/** The releases the corpus runs at: one per oracle (v1.9.0 is judged by v1.9.0-rc6's installer). */
export const CORPUS_RELEASES = ['v1.4.3', 'v1.5.2', 'v1.6.1', 'v1.7.1', 'v1.8.1', 'v1.9.0'] as const;

/** The base site: valid at every corpus release, two nodes, UEFI, a machine that passes every check. */
export function baseSite(version: string): Doc {
  return {
    site: 'corpus',
    harvester: { version, artifacts: `http://10.0.0.1/artifacts/${version}` },
    boot: { server: 'http://10.0.0.1' },
    network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' },
    cluster: { vip: '10.0.0.10', token: 'token.123', password: 'password.123', ntp: ['10.0.0.1'] },
    defaults: { install: { device: '/dev/disk/by-id/os' } },
    nodes: [
      { hostname: 'n1', role: 'create', mac: '52:54:00:00:00:01', ip: '10.0.0.11' },
      { hostname: 'n2', mac: '52:54:00:00:00:02', ip: '10.0.0.12', method: 'static' },
    ],
  };
}

/** Set `value` at the dotted `key` under `obj`, creating maps on the way. */
export function setKey(obj: Doc, key: string, value: unknown): void {
  const parts = key.split('.');
  let at = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof at[p] !== 'object' || at[p] === null || Array.isArray(at[p])) at[p] = {};
    at = at[p] as Doc;
  }
  at[parts[parts.length - 1]!] = value;
}

const nodeOf = (site: Doc, t: Target) => (site.nodes as Doc[]).find((n) => n.hostname === t)!;
const show = (v: unknown) => JSON.stringify(v);

/**
 * One mutation per value: `route` says how it reaches the config (`config:=`, `field <name>=`,
 * `site <path>=`), `edit` puts the value into the inventory, `toCfg` maps it to the config's value.
 */
function mutate(
  family: string,
  key: string,
  route: string,
  values: readonly unknown[],
  target: Target,
  edit: (site: Doc, v: unknown) => void,
  toCfg: (v: unknown) => unknown = (v) => v,
): Mutation[] {
  return values.map((v) => ({
    id: `${key} ${route}${show(v)}${target === 'n1' ? ' (n1)' : ''}`,
    family,
    target,
    inv: (s) => edit(s, v),
    cfg: [key, toCfg(v)],
  }));
}

/** A key under the target node's `config:`. */
function viaConfig(family: string, key: string, values: readonly unknown[], target: Target = 'n2'): Mutation[] {
  return mutate(family, key, 'config:=', values, target, (s, v) => {
    const n = nodeOf(s, target);
    n.config ??= {};
    setKey(n.config as Doc, key, v);
  });
}

/** An inventory field of the target node (dotted), and the config key it becomes (`toCfg` maps the value). */
function viaField(
  family: string,
  field: string,
  key: string,
  values: readonly unknown[],
  target: Target = 'n2',
  toCfg?: (v: unknown) => unknown,
): Mutation[] {
  return mutate(family, key, `field ${field}=`, values, target, (s, v) => setKey(nodeOf(s, target), field, v), toCfg);
}

/** A site setting (dotted path from the top of site.yaml). */
function viaSite(family: string, at: string, key: string, values: readonly unknown[], target: Target = 'n2'): Mutation[] {
  return mutate(family, key, `site ${at}=`, values, target, (s, v) => setKey(s, at, v));
}

/**
 * The machine the installer runs on, as the inventory declares it (`hardware:` of the target node,
 * or site settings such as `boot.firmware`), with the same machine for run-oracle.sh.
 */
function viaMachine(id: string, inv: (site: Doc) => void, machine: Record<string, string>, cfg?: [string, unknown]): Mutation {
  return { id: `machine ${id}`, family: 'machine', target: 'n2', inv, machine, ...(cfg ? { cfg } : {}) };
}

const hardware = (facts: Doc) => (s: Doc) => {
  const n = nodeOf(s, 'n2');
  n.hardware = { ...(n.hardware as Doc | undefined), ...facts };
};

/** Machines that pass or fail the installer's preflight and disk checks, with and without skipchecks. */
function machines(): Mutation[] {
  const skip = (s: Doc) => setKey(s, 'boot.skipchecks', true);
  const both =
    (...fs: ((s: Doc) => void)[]) =>
    (s: Doc) =>
      fs.forEach((f) => f(s));
  const dataDisk = (s: Doc) => setKey(nodeOf(s, 'n2'), 'install.data_disk', '/dev/disk/by-id/data');
  return [
    viaMachine('cpus=8', hardware({ cpus: 8 }), { ORACLE_CPUS: '8' }),
    viaMachine('cpus=16', hardware({ cpus: 16 }), { ORACLE_CPUS: '16' }),
    viaMachine('cpus=8 skipchecks', both(hardware({ cpus: 8 }), skip), { ORACLE_CPUS: '8' }, ['install.skipchecks', true]),
    viaMachine('memory_gib=32', hardware({ memory_gib: 32 }), { ORACLE_MEM_GIB: '32' }),
    viaMachine('memory_gib=63', hardware({ memory_gib: 63 }), { ORACLE_MEM_GIB: '63' }),
    viaMachine('memory_gib=64', hardware({ memory_gib: 64 }), { ORACLE_MEM_GIB: '64' }),
    viaMachine('nic_speed_mbps=1000', hardware({ nic_speed_mbps: 1000 }), { ORACLE_NIC_MBPS: '1000' }),
    viaMachine('nic_speed_mbps=10000', hardware({ nic_speed_mbps: 10000 }), { ORACLE_NIC_MBPS: '10000' }),
    viaMachine('virtualized', hardware({ virtualized: true }), { ORACLE_VIRT: 'kvm' }),
    viaMachine('kvm=false', hardware({ kvm: false }), { ORACLE_KVM: '0' }),
    viaMachine('kvm=false skipchecks', both(hardware({ kvm: false }), skip), { ORACLE_KVM: '0' }, ['install.skipchecks', true]),
    viaMachine('disk_gib=249', hardware({ disk_gib: 249 }), { ORACLE_DISK_GIB: '249' }),
    viaMachine('disk_gib=250', hardware({ disk_gib: 250 }), { ORACLE_DISK_GIB: '250' }),
    viaMachine('disk_gib=200 skipchecks', both(hardware({ disk_gib: 200 }), skip), { ORACLE_DISK_GIB: '200' }, [
      'install.skipchecks',
      true,
    ]),
    viaMachine('disk_gib=179 data disk', both(hardware({ disk_gib: 179, data_disk_gib: 500 }), dataDisk), { ORACLE_DISK_GIB: '179' }, [
      'install.data_disk',
      '/dev/disk/by-id/data',
    ]),
    viaMachine('disk_gib=180 data disk', both(hardware({ disk_gib: 180, data_disk_gib: 500 }), dataDisk), { ORACLE_DISK_GIB: '180' }, [
      'install.data_disk',
      '/dev/disk/by-id/data',
    ]),
    viaMachine('data_disk_gib=49', both(hardware({ data_disk_gib: 49 }), dataDisk), { ORACLE_DATA_GIB: '49' }, [
      'install.data_disk',
      '/dev/disk/by-id/data',
    ]),
    viaMachine(
      'disk_gib=300 partition 300Gi',
      both(hardware({ disk_gib: 300 }), (s) => setKey(nodeOf(s, 'n2'), 'install.persistent_partition_size', '300Gi')),
      { ORACLE_DISK_GIB: '300' },
      ['install.persistent_partition_size', '300Gi'],
    ),
    viaMachine('firmware=bios', (s) => setKey(s, 'boot.firmware', 'bios'), { ORACLE_FIRMWARE: 'bios' }),
    viaMachine(
      'firmware=bios skipchecks',
      both((s) => setKey(s, 'boot.firmware', 'bios'), skip),
      { ORACLE_FIRMWARE: 'bios' },
      ['install.skipchecks', true],
    ),
  ];
}

/** Both the field and `config:` routes. */
function both(family: string, field: string, key: string, values: readonly unknown[], target: Target = 'n2'): Mutation[] {
  return [...viaField(family, field, key, values, target), ...viaConfig(family, key, values, target)];
}

const DEVICES = [
  '/dev/disk/by-id/os/',
  '/dev/disk/by-id/os//',
  '/dev/disk/by-id/os/.',
  '/dev/disk/by-id/../by-id/os',
  '/dev/disk/by-id//os',
  '/dev/disk//by-id/os',
  '/dev/disk/by-id/./os',
  '/dev/disk/by-id/os',
  '/dev/disk/by-id/wwn-0x5000cca0aaaaaaaa',
  '/dev/disk/by-path/pci-0000:00:17.0-ata-1',
  '/dev/disk/by-label/COS',
  '/dev/mapper/os',
  '/dev/md/os',
  '/dev/vda',
  '/dev/sda',
  '/dev/nvme0n1',
  '/dev/vda1',
  '/dev/VDA',
  ' /dev/vda',
  '/dev/vda ',
  '/dev//vda',
  '/dev/./vda',
  'dev/vda',
  '/devx/vda',
  '/dev/',
  '',
];

const MAC2 = '52:54:00:00:00:02';
const DNS_LISTS = [
  ['10.0.0.2'],
  ['fe80::1'],
  ['2001:db8::1'],
  ['dns.example.com'],
  [],
  [' 10.0.0.1'],
  ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'],
  ['10.0.0.300'],
];
const VIP_MODES = ['dhcp', 'static', 'DHCP', 'Static', ' static', 'none', 'dhcpp', ''];
const VIPS = ['10.0.0.20', '10.0.0.300', 'fe80::1', '10.0.0.10 ', '10.0.1.10', '010.0.0.10', '10.0.0.0', ''];

/** Management NICs, in the inventory's spelling (`mac`; the config's is `hwAddr`). */
const NICS: Doc[][] = [
  [{ name: 'lo' }],
  [{ name: 'lo', mac: MAC2 }],
  [{ name: 'LO' }],
  [{ name: 'eth0' }],
  [{ name: 'eth0 ' }],
  [{ name: 'enp1s0', mac: MAC2 }],
  [{ mac: MAC2.toUpperCase() }],
  [{ mac: MAC2 }, { mac: '52:54:00:00:00:12' }],
  [{ mac: '52-54-00-00-00-02' }],
  [{ mac: '5254.0000.0002' }],
  [{ name: 'enp1s0', mac: 'zz:54:00:00:00:02' }],
  [{ name: 'a-very-long-interface-name' }],
  [],
];

/** Every mutation of the corpus. */
export function mutations(): Mutation[] {
  const all: Mutation[] = [
    ...both('disk', 'install.device', 'install.device', DEVICES),
    ...both('disk', 'install.data_disk', 'install.data_disk', [
      '/dev/vdb',
      '/dev/vdb/',
      '/dev/disk/by-id/data',
      '/dev/disk/by-id/os',
      ' /dev/vdb',
      '/dev//vdb',
      'vdb',
      '',
    ]),
    ...both('wipe', 'install.wipe_disks_list', 'install.wipe_disks_list', [
      [],
      ['/dev/vdb'],
      ['/dev/vdb/'],
      ['vdb'],
      ['/dev/disk/by-id/os'],
      [''],
      ['/dev/vdb', '/dev/vdb'],
      ['/dev/vdc', ' /dev/vdd'],
    ]),
    ...viaField('wipe', 'install.wipe_all_disks', 'install.wipe_all_disks', [true, false]),
    ...viaConfig('wipe', 'install.wipe_all_disks', [true, false, 'true', 'yes', 'on', 1, 0, 'TRUE', ' y ', 'no']),
    ...viaConfig('mode', 'install.mode', ['create', 'join', 'CREATE', 'Join', ' join', 'install', 'upgrade', '']),
    ...both('role', 'harvester_role', 'install.role', ['default', 'management', 'worker', 'witness', '', 'Worker', 'master', ' worker']),
    ...both('tty', 'install.tty', 'install.tty', [
      'tty1',
      'ttyS0',
      'ttyS0,115200n8',
      ' tty1',
      'tty1 ',
      'tty 1',
      'TTY1',
      'ttyS1,115200',
      '',
    ]),
    // The installer checks the VIP on the node that creates the cluster (commonCheck, create mode).
    ...viaSite('vip', 'cluster.vip_mode', 'install.vip_mode', VIP_MODES, 'n1'),
    ...viaConfig('vip', 'install.vip_mode', VIP_MODES, 'n1'),
    ...viaSite('vip', 'cluster.vip', 'install.vip', VIPS, 'n1'),
    ...viaConfig('vip', 'install.vip', VIPS, 'n1'),
    ...viaSite(
      'vip',
      'cluster.vip_hw_addr',
      'install.vip_hw_addr',
      ['52:54:00:00:00:aa', '52:54:00:00:00:AA', '02:00:00:00:00:00:00:01', '52-54-00-00-00-aa', '5254.0000.00aa', 'zz:54:00:00:00:aa', ''],
      'n1',
    ),
    ...viaConfig(
      'vip',
      'install.vip_hw_addr',
      ['52:54:00:00:00:aa', '52:54:00:00:00:AA', '02:00:00:00:00:00:00:01', '52-54-00-00-00-aa', '5254.0000.00aa', 'zz:54:00:00:00:aa', ''],
      'n1',
    ),
    ...both('network', 'method', 'install.management_interface.method', [
      'dhcp',
      'static',
      'DHCP',
      'Static',
      'none',
      'statik',
      ' static',
      '',
    ]),
    ...both('network', 'ip', 'install.management_interface.ip', ['10.0.0.13', '10.0.0.256', '10.0.0.12/24', ' 10.0.0.12', 'fe80::12', '']),
    ...viaField('network', 'netmask', 'install.management_interface.subnet_mask', [
      '255.255.255.0',
      '255.255.255.128',
      '255.255.255.255',
      '255.0.255.0',
      '24',
      '',
    ]),
    ...viaConfig('network', 'install.management_interface.subnet_mask', [
      '255.255.255.0',
      '255.255.255.128',
      '255.255.255.255',
      '255.0.255.0',
      '24',
      '/24',
      '',
    ]),
    ...both('network', 'gateway', 'install.management_interface.gateway', [
      '10.0.0.1',
      '10.0.0.2',
      '10.0.1.1',
      '10.0.0.256',
      'fe80::1',
      '',
    ]),
    ...both('network', 'mtu', 'install.management_interface.mtu', [0, 576, 1500, 9000, 575, 9001, -1, '1500']),
    ...both('network', 'vlan', 'install.management_interface.vlan_id', [0, 1, 10, 4094, 4095, -1, '10']),
    ...both('bond', 'bond', 'install.management_interface.bond_options', [
      { mode: 'active-backup', miimon: 100 },
      { mode: '802.3ad', miimon: 100 },
      { mode: 'balance-rr' },
      { mode: 'bogus' },
      { miimon: '100' },
      { mode: 'ACTIVE-BACKUP' },
    ]),
    ...viaField('nics', 'interfaces', 'install.management_interface.interfaces', NICS, 'n2', (v) =>
      (v as Doc[]).map(({ mac, ...rest }) => ({ ...rest, ...(mac !== undefined ? { hwAddr: mac } : {}) })),
    ),
    ...viaConfig(
      'nics',
      'install.management_interface.interfaces',
      NICS.map((l) => l.map(({ mac, ...rest }) => ({ ...rest, ...(mac !== undefined ? { hwAddr: mac } : {}) }))),
    ),
    ...both('hostname', 'hostname', 'os.hostname', [
      'n2.example.com',
      'n2.',
      'N2',
      'n_2',
      'n2-',
      '-n2',
      'a'.repeat(63),
      'a'.repeat(64),
      ' n2',
      'n2x',
    ]),
    ...viaField('dns', 'dns', 'os.dns_nameservers', DNS_LISTS),
    ...viaConfig('dns', 'os.dns_nameservers', DNS_LISTS),
    ...viaSite('dns', 'network.dns', 'os.dns_nameservers', [
      ['10.0.0.2'],
      ['2001:db8::1'],
      ['dns.example.com'],
      ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'],
    ]),
    ...viaSite('ntp', 'cluster.ntp', 'os.ntp_servers', [
      ['pool.ntp.org'],
      ['2001:db8::1'],
      [''],
      [' ntp.example.com'],
      ['ntp.example.com:123'],
      [],
    ]),
    ...viaConfig('ntp', 'os.ntp_servers', [['pool.ntp.org'], ['2001:db8::1'], [''], [' ntp.example.com'], ['ntp.example.com:123'], []]),
    ...viaSite('credentials', 'cluster.ssh_authorized_keys', 'os.ssh_authorized_keys', [
      ['github:harvgen'],
      ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEt8 op'],
      ['garbage'],
      [''],
      [],
    ]),
    ...viaConfig('credentials', 'os.ssh_authorized_keys', [
      ['github:harvgen'],
      ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEt8 op'],
      ['garbage'],
      [''],
      [],
    ]),
    ...viaConfig('credentials', 'os.password', ['', 'plain.password', '$6$salt$' + 'x'.repeat(86), '$1$abc$def', '$6$bad']),
    ...viaSite('token', 'cluster.token', 'token', ['token.123', 'tok en', 'tökén', 'tok"en', 'tok\\en', 'a'.repeat(200), 'tok\ten']),
    ...viaConfig('token', 'token', ['tok en', 'tökén', '', 'tok"en']),
    ...viaConfig('server-url', 'server_url', [
      '',
      'https://10.0.0.10:443',
      'https://10.0.0.10',
      'http://10.0.0.10:443',
      'https://10.0.0.10:6443',
      'https://10.0.0.10:443/path',
      'https://vip.example.com:443',
      '10.0.0.10',
    ]),
    ...viaConfig('server-url', 'server_url', ['', 'https://10.0.0.10:443'], 'n1'),
    ...viaConfig('role', 'install.role', ['', 'witness'], 'n1'),
    ...both('size', 'install.persistent_partition_size', 'install.persistent_partition_size', [
      '150Gi',
      '149Gi',
      '150G',
      '153600Mi',
      '200',
      'abc',
      '1Ti',
      '150gi',
      ' 150Gi',
      '',
    ]),
    ...viaConfig('bool', 'install.force_mbr', [
      true,
      false,
      'yes',
      'no',
      'true',
      'True',
      'TRUE',
      't',
      'y',
      ' true',
      1,
      '1',
      'on',
      ['yes'],
      ['true'],
      { a: 1 },
    ]),
    ...viaConfig('bool', 'install.skipchecks', [true, false, 'true', 'yes', '1']),
    ...viaField('bool', 'install.power_off', 'install.poweroff', [true, false]),
    ...viaConfig('bool', 'install.poweroff', [true, 'yes', 'off']),
    ...both('iso', 'install.iso_url', 'install.iso_url', [
      'http://10.0.0.1/harvester.iso',
      'ftp://10.0.0.1/harvester.iso',
      'relative.iso',
      'local',
      '',
    ]),
    ...viaSite(
      'cidr',
      'cluster.pod_cidr',
      'install.cluster_pod_cidr',
      ['10.52.0.0/16', '10.52.0.0', '10.52.0.0/33', 'fe80::/64', '10.52.1.0/16'],
      'n1',
    ),
    ...viaConfig('cidr', 'install.cluster_pod_cidr', ['10.52.0.0/16', '10.52.0.0', '10.52.0.0/33', 'fe80::/64', '10.52.1.0/16'], 'n1'),
    ...viaSite('cidr', 'cluster.service_cidr', 'install.cluster_service_cidr', ['10.53.0.0/16', '10.53.0.0/33'], 'n1'),
    ...viaConfig('cidr', 'install.cluster_service_cidr', ['10.53.0.0/16', '10.53.0.0/33'], 'n1'),
    ...viaSite('cidr', 'cluster.cluster_dns', 'install.cluster_dns', ['10.53.0.10', '10.53.0.300'], 'n1'),
    ...viaConfig('cidr', 'install.cluster_dns', ['10.53.0.10', '10.53.0.300'], 'n1'),
    ...viaConfig('os', 'os.modules', [['kvm'], [''], ['bad module']]),
    ...viaConfig('os', 'os.sysctls', [{ 'net.ipv4.ip_forward': '1' }, { 'kernel.panic': 10 }]),
    ...viaConfig('os', 'os.environment', [{ http_proxy: 'http://10.0.0.1:3128' }, { COUNT: 1 }]),
    ...viaConfig('os', 'os.labels', [
      { rack: 'r1' },
      { 'bad label!': 'x' },
      { [`${'a'.repeat(63)}.${'a'.repeat(63)}.${'a'.repeat(63)}.${'a'.repeat(63)}/a`]: 'x' },
      { [`${'a'.repeat(63)}.example.com/rack`]: 'r1' },
    ]),
    ...viaConfig('os', 'os.write_files', [
      [{ path: '/etc/motd', content: 'hi', permissions: '0644' }],
      [{ path: '/etc/motd', content: 'hi', permissions: 644 }],
      [{ path: '/etc/motd', content: 'hi', owner: 0 }],
      [{ path: '/etc/motd', content: 'aGk=', encoding: 'b64' }],
    ]),
    ...viaConfig('os', 'os.after_install_chroot_commands', [['echo hi'], ['']]),
    ...viaConfig(
      'settings',
      'system_settings',
      [
        { 'containerd-registry': '{}' },
        { 'containerd-registry': 'not json' },
        { 'containerd-registry': '{"mirrors":1}' },
        { 'ntp-servers': '{"ntpServers":["10.0.0.1"]}' },
      ],
      'n1',
    ),
    ...viaConfig('webhooks', 'install.webhooks', [
      [{ event: 'STARTED', method: 'GET', url: 'http://10.0.0.1/s' }],
      [{ event: 'started', method: 'GET', url: 'http://10.0.0.1/s' }],
      [{ event: 'STARTED', url: 'http://10.0.0.1/s' }],
      [{ event: 'FAILED', method: 'post', url: 'http://10.0.0.1/f' }],
      [{ event: 'STARTED', method: 'GET', url: 'http://10.0.0.1/{{.Nope' }],
    ]),
    ...viaSite('sans', 'cluster.sans', 'sans', [['vip.example.com'], ['10.0.0.10'], [''], ['bad san']], 'n1'),
    ...viaConfig('sans', 'sans', [['vip.example.com'], ['10.0.0.10'], [''], ['bad san']], 'n1'),
    ...viaField('cordoned', 'install.cordoned', 'install.cordoned', [true, false]),
    ...viaConfig('cordoned', 'install.cordoned', [true, 'yes']),
    ...viaConfig('cordoned', 'install.cordoned', [true], 'n1'),
    {
      id: 'install.cordoned field install.cordoned=true on a witness',
      family: 'cordoned',
      target: 'n2',
      inv: (s) => {
        const n = nodeOf(s, 'n2');
        n.harvester_role = 'witness';
        setKey(n, 'install.cordoned', true);
      },
      cfg: ['install.cordoned', true],
      cfgMore: [['install.role', 'witness']],
    },
    ...viaConfig('scheme', 'scheme_version', [1, 2, '1']),
    ...viaConfig('scheme', 'install.automatic', [false, 'false']),
    ...machines(),
  ];
  const ids = new Set<string>();
  for (const m of all) {
    if (ids.has(m.id)) throw new Error(`corpus: two mutations are ${m.id}`);
    ids.add(m.id);
  }
  return all;
}

/** What a rule's cases must show: both verdicts refuse, both accept, or the same verdict on both sides; or the installer warns. */
export type Expect = 'both-refuse' | 'both-accept' | 'agree' | { installerWarns: RegExp };

/** Corpus mutations that show a rule, and what they must show; `code`: the code harvgen reports there, when not the rule's. */
export interface RuleCase {
  id: RegExp;
  expect: Expect;
  code?: string;
}

/**
 * The corpus cases that run the installer's code on each rule `RULES_IN_CI` says CI judges
 * (src/harvester/installer-rules.ts): mutation ids, what they must show at the rule's releases, and
 * the code harvgen reports there (the rule's own, unless `code` says another rule of harvgen's
 * reports the same installer check first).
 */
export const RULE_CASES: Readonly<Record<string, RuleCase | readonly RuleCase[]>> = {
  'preflight-bios-v1.7': { id: /^machine firmware=bios$/, expect: 'both-refuse' },
  'preflight-cpu': { id: /^machine cpus=8$/, expect: 'both-refuse' },
  // The site's own BIOS (HARVESTER_BIOS_UNSUPPORTED) meets the same check of the installer that a
  // machine measured as BIOS does.
  'preflight-bios': { id: /^machine firmware=bios( skipchecks)?$/, expect: 'both-refuse', code: 'HARVESTER_BIOS_UNSUPPORTED' },
  'preflight-memory': { id: /^machine memory_gib=(32|63)$/, expect: 'both-refuse' },
  'preflight-nic-speed': { id: /^machine nic_speed_mbps=1000$/, expect: 'both-refuse' },
  'preflight-virtualized': { id: /^machine virtualized$/, expect: 'both-refuse' },
  'preflight-kvm': { id: /^machine kvm=false$/, expect: 'both-refuse' },
  'nic-name': { id: /^install\.management_interface\.interfaces .*\[\{"name":"lo"/, expect: 'both-refuse' },
  'cordoned-create': { id: /^install\.cordoned config:=true \(n1\)$/, expect: 'both-refuse' },
  'cordoned-witness': { id: /^install\.cordoned field install\.cordoned=true on a witness$/, expect: 'both-refuse' },
  'disk-device-path': [
    { id: /^install\.device .*="\/dev\/disk\/by-id\/os\/"$/, expect: 'both-refuse' },
    { id: /^install\.device .*="\/dev\/(\/|\.\/)vda"$/, expect: 'both-refuse' },
    // A link the installer resolves: harvgen warns and both accept.
    { id: /^install\.device .*="\/dev\/disk\/(by-id\/\/|\/by-id\/|by-id\/\.\/)os"$/, expect: 'both-accept' },
  ],
  'disk-install-min': { id: /^machine disk_gib=(249|179 data disk)$/, expect: 'both-refuse' },
  'disk-data-min': { id: /^machine data_disk_gib=49$/, expect: 'both-refuse' },
  'partition-min': { id: /^install\.persistent_partition_size .*="149Gi"$/, expect: 'both-refuse' },
  'partition-max': { id: /^machine disk_gib=300 partition 300Gi$/, expect: 'both-refuse' },
  'force-mbr': { id: /^install\.force_mbr config:=true$/, expect: 'both-refuse' },
  'boolean-values': { id: /^install\.force_mbr config:=("yes"|"TRUE"|"on"|"1"|"t"|\["yes"\])$/, expect: 'agree' },
  webhooks: { id: /^install\.webhooks config:=\[\{"event":"started"/, expect: { installerWarns: /^Invalid webhook/ } },
  'containerd-registry-json': { id: /^system_settings config:=\{"containerd-registry":"not json"\} \(n1\)$/, expect: 'both-refuse' },
};
