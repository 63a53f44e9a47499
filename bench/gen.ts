// Generated inventories for `npm run bench`: a repository (with a `.git` directory) with `sites`
// sites of `nodes` nodes each, one YAML file per node (as a fleet keeps them), and one shared
// token and password file (sites/<site>/site.yaml names ../../secrets/...). Every site has its own
// network, boot server and MAC prefix, so the sites pass the checks between sites. The first 150
// sites each get a /16 (10.100.0.0/16 on), room for 50,000 nodes; a fleet of more sites (up to
// 3,478) gives the sites from 150 on a /22 each inside 10.0.0.0-10.51.255.255 (clear of the default
// pod and service networks, 10.52 and 10.53), room for 500 nodes. The first 150 sites are the same
// text whatever the number of sites, so the figures of earlier runs stay comparable.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { factsText } from '../src/facts/file.ts';

const repo = resolve(import.meta.dirname, '..');

/** The directory of site `i` (0-based) in a generated repository. */
export function siteName(i: number): string {
  return `s${String(i).padStart(3, '0')}`;
}

/** The node file that holds node `k` of a site. */
export function nodeFile(root: string, site: number, k: number): string {
  return join(root, 'sites', siteName(site), 'nodes', `n${String(k).padStart(5, '0')}.yaml`);
}

/** The sites that get a /16 each; the sites after them get a /22 (see `siteNet`). */
const WIDE_SITES = 150;
/** The /22s that fit below 10.52.0.0 (the default pod network), 64 to each /16. */
const NARROW_SITES = 52 * 64;
/** The most sites a generated repository can have. */
export const MAX_SITES = WIDE_SITES + NARROW_SITES;

/** Where site `i`'s addresses come from. */
interface SiteNet {
  /** The management network (`network.cidr`). */
  cidr: string;
  /** The first three octets (with the dot) of the servers: gateway .1, DNS .2 and .3, boot .5, iSCSI .6, VIP .10. */
  servers: string;
  /** The DHCP range, clear of every node address. */
  dhcp: string;
  /** How many nodes have an address. */
  capacity: number;
  /** The address of node `k`. */
  node(k: number): string;
}

/**
 * Site `i`'s network. A /16 for each of the first 150 sites (the plan every earlier run used:
 * 10.<100+i>.0.0/16, nodes from 10.<100+i>.1.1, DHCP on .220); then a /22 for each further site,
 * so a fleet of 1,000 sites fits below 10.52: servers on the first /24, nodes on the next two,
 * DHCP on the last.
 */
export function siteNet(i: number): SiteNet {
  if (i < WIDE_SITES) {
    const net = `10.${100 + i}`; // clear of the default pod and service networks (10.52, 10.53)
    return {
      cidr: `${net}.0.0/16`,
      servers: `${net}.0.`,
      dhcp: `${net}.220.1-${net}.220.250`,
      capacity: 250 * 200,
      node: (k) => `${net}.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`,
    };
  }
  const j = i - WIDE_SITES;
  const net = `10.${Math.floor(j / 64)}`;
  const third = (j % 64) * 4;
  return {
    cidr: `${net}.${third}.0/22`,
    servers: `${net}.${third}.`,
    dhcp: `${net}.${third + 3}.1-${net}.${third + 3}.250`,
    capacity: 250 * 2,
    node: (k) => `${net}.${third + 1 + Math.floor(k / 250)}.${1 + (k % 250)}`,
  };
}

/**
 * The MAC of node `k` of site `i`, NIC `nic`: `first:second:SS:N0:KK:KK` with site byte SS for the
 * first 150 sites (the plan of every earlier run); after them one byte cannot tell the sites
 * apart, so the second byte goes up by one and the site takes three hex digits, `SS:SN`, beside
 * the NIC digit N.
 */
function macOf(first: string, second: number, i: number, nic: number, k: number): string {
  const hex = k.toString(16).padStart(4, '0');
  const node = `${hex.slice(0, 2)}:${hex.slice(2)}`;
  if (i < WIDE_SITES) return `${first}:${second.toString(16)}:${(i + 1).toString(16).padStart(2, '0')}:${nic}0:${node}`;
  const site = (i + 1).toString(16).padStart(3, '0');
  return `${first}:${(second + 1).toString(16)}:${site.slice(0, 2)}:${site.slice(2)}${nic}:${node}`;
}

/** Refuse a plan the addresses cannot hold (sites past `MAX_SITES`, nodes past a site's network). */
function checkPlan(sites: number, nodes: number): void {
  if (sites > MAX_SITES) throw new Error(`bench: at most ${MAX_SITES} sites fit the address plan, not ${sites}`);
  const room = siteNet(Math.max(0, sites - 1)).capacity;
  if (nodes > room) throw new Error(`bench: at most ${room} nodes per site fit the address plan of ${sites} sites, not ${nodes}`);
}

/** The text of node `k` of site `i`. */
export function nodeText(i: number, k: number): string {
  return `mac: ${macOf('52', 0x54, i, 1, k)}\nip: ${siteNet(i).node(k)}\n`;
}

/** Write a repository of `sites` x `nodes` under `root`; returns the site directories. */
export function generateRepo(root: string, sites: number, nodes: number): string[] {
  checkPlan(sites, nodes);
  // A repository (README "Safety": harvgen reads nothing outside it, so the shared secrets/ and
  // layers beside sites/ need one): `.git` marks its root.
  mkdirSync(join(root, '.git'), { recursive: true });
  mkdirSync(join(root, 'secrets'), { recursive: true });
  writeFileSync(join(root, 'secrets/token'), 'bench-token-0123456789abcdef\n');
  writeFileSync(join(root, 'secrets/password'), 'bench-password\n');
  const template = readFileSync(join(repo, 'sites/location_x/site.yaml'), 'utf8');
  const dirs: string[] = [];
  for (let i = 0; i < sites; i++) {
    const net = siteNet(i);
    const dir = join(root, 'sites', siteName(i));
    mkdirSync(join(dir, 'nodes'), { recursive: true });
    const site = template
      .replace('site: location_x', `site: ${siteName(i)}`)
      .replace('cidr: 192.168.122.0/24', `cidr: ${net.cidr}`)
      .replace('dhcp_range: 192.168.122.150-192.168.122.250', `dhcp_range: ${net.dhcp}`)
      .replace(/192\.168\.122\./g, net.servers)
      .replace(/\{ file: secrets\//g, '{ file: ../../secrets/')
      .replace(/nodes:[\s\S]*?\n\nlab:/, 'lab:')
      .replace('network_name: vlan1', `network_name: net${i}`)
      .replace('bridge: virbr1', `bridge: virbr${i + 10}`);
    writeFileSync(join(dir, 'site.yaml'), site);
    for (let k = 0; k < nodes; k++) writeFileSync(nodeFile(root, i, k), nodeText(i, k));
    dirs.push(dir);
  }
  return dirs;
}

/** The environment variable the rich inventory's cluster token comes from (`token: { env: ... }`). */
export const RICH_TOKEN_ENV = 'HARVGEN_BENCH_TOKEN';

/**
 * The text of node `k` of rich site `i`: most nodes are Harvester servers with two bonded NICs
 * (each MAC named), a tagged management VLAN, two disks and a `config:` block; every tenth a
 * generic OS node with cloud-init, every tenth+1 an iSCSI diskless node. Node 5 sets an `mtu` on
 * an iSCSI node, which it does not read: one warning (NODE_SETTING_IGNORED) per site.
 */
export function richNodeText(i: number, k: number): string {
  const hex = k.toString(16).padStart(4, '0');
  const mac = (nic: number) => macOf('b4', 0x96, i, nic, k);
  const ip = siteNet(i).node(k);
  if (k % 10 === 9) {
    return [
      `mac: ${mac(1)}`,
      `ip: ${ip}`,
      'os: rocky9',
      'cloud_init:',
      '  user_data:',
      `    users: [{ name: ops, ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBenchKey${hex} ops@bench"] }]`,
      '    packages: [podman, chrony]',
      `  meta_data: { rack: r${k % 40} }`,
      '',
    ].join('\n');
  }
  if (k % 10 === 8 || k === 5) {
    return [
      `mac: ${mac(1)}`,
      `ip: ${ip}`,
      ...(k === 5 ? ['mtu: 1500 # an iSCSI node does not read it: NODE_SETTING_IGNORED'] : []),
      'iscsi:',
      `  server: ${siteNet(i).servers}6`,
      `  target: iqn.2026-11.net.example:store-${k}`,
      '  lun: 1',
      '',
    ].join('\n');
  }
  return [
    ...(k === 0 ? ['role: create'] : []),
    `macs: [${mac(1)}, ${mac(2)}]`,
    `ip: ${ip}`,
    'interfaces:',
    `  - { name: eno1, mac: ${mac(1)} }`,
    `  - { name: eno2, mac: ${mac(2)} }`,
    `vlan: ${20 + (k % 3)}`,
    'install:',
    `  device: /dev/disk/by-id/nvme-SAMSUNG_MZ1L2960HCJR-00A07_S665NE0R${hex}`,
    `  data_disk: /dev/disk/by-id/nvme-SAMSUNG_MZQL27T6HBLA-00A07_S6CKNE0R${hex}`,
    'config:',
    '  os:',
    '    labels:',
    `      topology.kubernetes.io/zone: rack-${k % 40}`,
    `      bench.example.net/slot: "${k}"`,
    '',
  ].join('\n');
}

/**
 * The measured facts (`facts/<hostname>.yaml`, written as `harvgen facts --dump` writes them) of node `k`
 * of rich site `i`, for every fourth Harvester server: what its profile declares, measured,
 * except every eighth, whose machine has less memory than its profile says (one
 * MEASURED_FACT_DISAGREES warning each); undefined for the others.
 */
export function richFactsText(i: number, k: number): string | undefined {
  if (k % 10 >= 8 || k === 5 || k % 4 !== 0) return undefined;
  const hex = k.toString(16).padStart(4, '0');
  const mac = (nic: number) => macOf('b4', 0x96, i, nic, k);
  const less = k % 8 === 0;
  return factsText(`n${String(k).padStart(5, '0')}`, {
    measured: { source: 'dump', from: 'bench.facts', at: '2026-11-27T00:00:00Z' },
    identity: { manufacturer: 'Dell Inc.', model: 'PowerEdge R650', serial: `BENCH${hex}`, uuid: `4c4c4544-0042-3510-8052-${hex}00000000` },
    firmware: 'uefi',
    secureBoot: false,
    cpus: 64,
    memoryGib: less ? 384 : 512,
    memoryTotalGib: less ? 377 : 503,
    virtualized: false,
    kvm: true,
    disks: [
      { name: 'nvme0n1', byId: `/dev/disk/by-id/nvme-SAMSUNG_MZ1L2960HCJR-00A07_S665NE0R${hex}`, sizeGib: 447, media: 'SSD' },
      { name: 'nvme1n1', byId: `/dev/disk/by-id/nvme-SAMSUNG_MZQL27T6HBLA-00A07_S6CKNE0R${hex}`, sizeGib: 7153, media: 'SSD' },
    ],
    nics: [
      { mac: mac(1), speedMbps: 25000, link: 'up', name: 'eno1', driver: 'ice' },
      { mac: mac(2), speedMbps: 25000, link: 'up', name: 'eno2', driver: 'ice' },
    ],
  });
}

/**
 * Write a repository of `sites` x `nodes` rich nodes under `root` (production-style sites with a
 * repo-wide `sites/_defaults.yaml`, a hardware profile in `sites/_profiles/`, an OS profile, the
 * token from the environment (`RICH_TOKEN_ENV`) and the password from a file); returns the site
 * directories.
 */
export function generateRichRepo(root: string, sites: number, nodes: number): string[] {
  checkPlan(sites, nodes);
  mkdirSync(join(root, '.git'), { recursive: true });
  mkdirSync(join(root, 'secrets'), { recursive: true });
  mkdirSync(join(root, 'sites', '_profiles'), { recursive: true });
  writeFileSync(join(root, 'secrets/password'), 'bench-password\n');
  writeFileSync(
    join(root, 'sites/_defaults.yaml'),
    ['install:', '  tty: ttyS1,115200n8', 'kernel_args: [nomodeset]', 'config:', '  os:', '    ntp_servers: [ntp1.example.net]', ''].join(
      '\n',
    ),
  );
  writeFileSync(
    join(root, 'sites/_profiles/r650.yaml'),
    [
      'hardware:',
      '  memory_gib: 512',
      '  cpus: 64',
      '  disk_gib: 447',
      '  nic_speed_mbps: 25000',
      'bond:',
      '  mode: 802.3ad',
      '  miimon: 100',
      '  xmit_hash_policy: layer3+4',
      'mtu: 9000',
      '',
    ].join('\n'),
  );
  const dirs: string[] = [];
  for (let i = 0; i < sites; i++) {
    const net = siteNet(i);
    const srv = net.servers;
    const name = `r${String(i).padStart(3, '0')}`;
    const dir = join(root, 'sites', siteName(i));
    mkdirSync(join(dir, 'nodes'), { recursive: true });
    const site = [
      `site: ${name}`,
      'harvester:',
      '  version: v1.6.0',
      `  artifacts: http://${srv}5:8080/artifacts/v1.6.0`,
      'boot:',
      `  server: http://${srv}5:8080`,
      '  firmware: uefi',
      '  console: [tty1, "ttyS1,115200n8"]',
      'network:',
      `  cidr: ${net.cidr}`,
      `  gateway: ${srv}1`,
      `  dns: [${srv}2, ${srv}3]`,
      `  dhcp_range: ${net.dhcp}`,
      `  domain: ${name}.example.net`,
      'cluster:',
      `  vip: ${srv}10`,
      `  token: { env: ${RICH_TOKEN_ENV} }`,
      '  password: { file: ../../secrets/password }',
      '  ssh_authorized_keys:',
      '    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb0aXN6Y2kkZXhhbXBsZWtleWZvcmxvY2F0aW9ueQ ops@bench',
      'os_profiles:',
      '  rocky9:',
      `    kernel: http://${srv}5:8080/os/rocky9/vmlinuz`,
      `    initrds: [http://${srv}5:8080/os/rocky9/initrd.img]`,
      '    params: ["console=ttyS0,115200", ip=dhcp, ro]',
      `    root: live:http://${srv}5:8080/os/rocky9/squashfs.img`,
      'defaults:',
      '  profile: r650',
      '  method: static',
      '  config:',
      '    os:',
      '      labels:',
      `        bench.example.net/site: ${name}`,
      'nginx:',
      `  root: /srv/www/harvgen/${name}`,
      '  artifacts_dir: /srv/www/harvester-artifacts/v1.6.0',
      'dnsmasq:',
      '  interface: ens1f0',
      '  tftp_root: /srv/tftp',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'site.yaml'), site);
    mkdirSync(join(dir, 'facts'), { recursive: true });
    for (let k = 0; k < nodes; k++) {
      writeFileSync(nodeFile(root, i, k), richNodeText(i, k));
      const facts = richFactsText(i, k);
      if (facts !== undefined) writeFileSync(join(dir, 'facts', `n${String(k).padStart(5, '0')}.yaml`), facts);
    }
    dirs.push(dir);
  }
  return dirs;
}
