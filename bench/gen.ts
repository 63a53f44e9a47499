// Generated inventories for `npm run bench`: a repository (with a `.git` directory) with `sites`
// sites of `nodes` nodes each, one YAML file per node (as a fleet keeps them), and one shared
// token and password file (sites/<site>/site.yaml names ../../secrets/...). Every site has its own /16, boot server and
// MAC prefix, so the sites pass the checks between sites.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');

/** The directory of site `i` (0-based) in a generated repository. */
export function siteName(i: number): string {
  return `s${String(i).padStart(3, '0')}`;
}

/** The node file that holds node `k` of a site. */
export function nodeFile(root: string, site: number, k: number): string {
  return join(root, 'sites', siteName(site), 'nodes', `n${String(k).padStart(5, '0')}.yaml`);
}

/** The text of node `k` of site `i`. */
export function nodeText(i: number, k: number): string {
  const hex = k.toString(16).padStart(4, '0');
  const site = (i + 1).toString(16).padStart(2, '0');
  return `mac: 52:54:${site}:10:${hex.slice(0, 2)}:${hex.slice(2)}\nip: 10.${100 + i}.${1 + Math.floor(k / 250)}.${1 + (k % 250)}\n`;
}

/** Write a repository of `sites` x `nodes` under `root`; returns the site directories. */
export function generateRepo(root: string, sites: number, nodes: number): string[] {
  if (sites > 150 || nodes > 250 * 200) throw new Error('bench: too many sites or nodes for the address plan');
  // A repository (README "Safety": harvgen reads nothing outside it, so the shared secrets/ and
  // layers beside sites/ need one): `.git` marks its root.
  mkdirSync(join(root, '.git'), { recursive: true });
  mkdirSync(join(root, 'secrets'), { recursive: true });
  writeFileSync(join(root, 'secrets/token'), 'bench-token-0123456789abcdef\n');
  writeFileSync(join(root, 'secrets/password'), 'bench-password\n');
  const template = readFileSync(join(repo, 'sites/location_x/site.yaml'), 'utf8');
  const dirs: string[] = [];
  for (let i = 0; i < sites; i++) {
    const net = `10.${100 + i}`; // clear of the default pod and service networks (10.52, 10.53)
    const dir = join(root, 'sites', siteName(i));
    mkdirSync(join(dir, 'nodes'), { recursive: true });
    const site = template
      .replace('site: location_x', `site: ${siteName(i)}`)
      .replace('cidr: 192.168.122.0/24', `cidr: ${net}.0.0/16`)
      .replace('dhcp_range: 192.168.122.150-192.168.122.250', `dhcp_range: ${net}.220.1-${net}.220.250`)
      .replace(/192\.168\.122\./g, `${net}.0.`)
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
  const site = (i + 1).toString(16).padStart(2, '0');
  const mac = (nic: number) => `b4:96:${site}:${nic}0:${hex.slice(0, 2)}:${hex.slice(2)}`;
  const ip = `10.${100 + i}.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`;
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
      `  server: 10.${100 + i}.0.6`,
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
 * Write a repository of `sites` x `nodes` rich nodes under `root` (production-style sites with a
 * repo-wide `sites/_defaults.yaml`, a hardware profile in `sites/_profiles/`, an OS profile, the
 * token from the environment (`RICH_TOKEN_ENV`) and the password from a file); returns the site
 * directories.
 */
export function generateRichRepo(root: string, sites: number, nodes: number): string[] {
  if (sites > 150 || nodes > 250 * 200) throw new Error('bench: too many sites or nodes for the address plan');
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
    const net = `10.${100 + i}`;
    const name = `r${String(i).padStart(3, '0')}`;
    const dir = join(root, 'sites', siteName(i));
    mkdirSync(join(dir, 'nodes'), { recursive: true });
    const site = [
      `site: ${name}`,
      'harvester:',
      '  version: v1.6.0',
      `  artifacts: http://${net}.0.5:8080/artifacts/v1.6.0`,
      'boot:',
      `  server: http://${net}.0.5:8080`,
      '  firmware: uefi',
      '  console: [tty1, "ttyS1,115200n8"]',
      'network:',
      `  cidr: ${net}.0.0/16`,
      `  gateway: ${net}.0.1`,
      `  dns: [${net}.0.2, ${net}.0.3]`,
      `  dhcp_range: ${net}.220.1-${net}.220.250`,
      `  domain: ${name}.example.net`,
      'cluster:',
      `  vip: ${net}.0.10`,
      `  token: { env: ${RICH_TOKEN_ENV} }`,
      '  password: { file: ../../secrets/password }',
      '  ssh_authorized_keys:',
      '    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb0aXN6Y2kkZXhhbXBsZWtleWZvcmxvY2F0aW9ueQ ops@bench',
      'os_profiles:',
      '  rocky9:',
      `    kernel: http://${net}.0.5:8080/os/rocky9/vmlinuz`,
      `    initrds: [http://${net}.0.5:8080/os/rocky9/initrd.img]`,
      '    params: ["console=ttyS0,115200", ip=dhcp, ro]',
      `    root: live:http://${net}.0.5:8080/os/rocky9/squashfs.img`,
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
    for (let k = 0; k < nodes; k++) writeFileSync(nodeFile(root, i, k), richNodeText(i, k));
    dirs.push(dir);
  }
  return dirs;
}
