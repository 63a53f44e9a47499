// What the installer's own code showed (test/real/installer-corpus.test.ts runs it in CI), held here
// as fast cases of `check` and the derived config, so that a change is seen without the oracle:
//   - a device path that is not plain (a trailing slash, `//`, `.`, `..`) is refused: the installer
//     runs lstat on the path as written ("lstat /dev/disk/by-id/os/: not a directory");
//   - a management NIC named `lo`, or by a name no Linux interface can have, is refused;
//   - `mtu: 0` and `vlan: 0` are unset, as the installer reads them; a node's IPv6 DNS server is
//     taken before v1.7 (the kernel line keeps the IPv4 ones) and refused from v1.7, where the
//     installer writes it into an IPv4 NetworkManager setting that drops it; `network.dns` stays IPv4;
//   - an empty `install.role` or `server_url` (on the create node) under `config:` passes, and a
//     spaced `install.tty` passes with a warning;
//   - before v1.8 a boolean key's text reads true only when it is `true`; a list is refused;
//   - an 8-byte VIP MAC is refused with the reason (Linux refuses it on a macvlan).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { compileSite } from '../src/index.ts';
import { devicePathProblem } from '../src/harvester/installer-rules/disks.ts';
import { nicNameProblem } from '../src/harvester/installer-rules/network.ts';
import { installerBool } from '../src/harvester/installer-values.ts';
import { kernelArgs } from '../src/derive/harvester/cmdline.ts';
import { buildHarvesterConfig } from '../src/derive/harvester/config.ts';
import type { HarvesterNode } from '../src/model/index.ts';
import { tempDir } from './helpers/tmp.ts';

type Doc = Record<string, unknown>;

/** A two-node site (n1 creates, n2 joins with a static address) at `version`, changed by `edit`. */
async function compile(version: string, edit: (site: Doc, n2: Doc, n1: Doc) => void) {
  const n1: Doc = { hostname: 'n1', role: 'create', mac: '52:54:00:00:00:01', ip: '10.0.0.11' };
  const n2: Doc = { hostname: 'n2', mac: '52:54:00:00:00:02', ip: '10.0.0.12', method: 'static' };
  const site: Doc = {
    site: 'findings',
    harvester: { version, artifacts: `http://10.0.0.1/artifacts/${version}` },
    boot: { server: 'http://10.0.0.1' },
    network: { cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.1'], dhcp_range: '10.0.0.100-10.0.0.199' },
    cluster: { vip: '10.0.0.10', token: { env: 'FINDINGS_TOKEN' }, password: { env: 'FINDINGS_PASSWORD' } },
    defaults: { install: { device: '/dev/disk/by-id/os' } },
    nodes: [n1, n2],
  };
  edit(site, n2, n1);
  const root = tempDir('installer-findings');
  mkdirSync(join(root, '.git'));
  const dir = join(root, 'sites', 'findings');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'site.yaml'), stringify(site));
  const r = await compileSite(dir, {
    cwd: root,
    secrets: 'filled',
    env: { FINDINGS_TOKEN: 'token.123', FINDINGS_PASSWORD: 'password.123' },
  });
  const errors = r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code);
  const warnings = r.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.code);
  const node = r.model?.nodes.find((n) => n.index === 1) as HarvesterNode | undefined;
  return { r, errors, warnings, node, messages: r.diagnostics.map((d) => d.message).join('\n') };
}

test('device paths: what the installer cannot look up as written', () => {
  for (const p of [
    '/dev/disk/by-id/os/',
    '/dev/disk/by-id/os//',
    '/dev//vda',
    '/dev/./vda',
    '/dev/disk/by-id/os/.',
    '/dev/disk/by-id/../by-id/os',
  ])
    assert.ok(devicePathProblem(p), p);
  for (const p of ['/dev/disk/by-id/os', '/dev/vda', '/dev/disk/by-path/pci-0000:00:17.0-ata-1', '/dev/mapper/os', '/dev/'])
    assert.is(devicePathProblem(p), undefined, p);
  // A link the installer resolves (EvalSymlinks cleans it): a warning; a kernel name it compares as written: an error.
  for (const p of ['/dev/disk/by-id//os', '/dev/disk//by-id/os', '/dev/disk/by-id/./os']) assert.is(devicePathProblem(p)?.warning, true, p);
  for (const p of ['/dev//vda', '/dev/./vda', '/dev/disk/by-id/os/']) assert.is(devicePathProblem(p)?.warning, undefined, p);
});

test('a trailing slash on the install disk, the data disk or a wipe-list entry is INSTALLER_DEVICE_PATH, with the plain path', async () => {
  for (const edit of [
    (_: Doc, n2: Doc) => (n2.install = { device: '/dev/disk/by-id/os/' }),
    (_: Doc, n2: Doc) => (n2.config = { install: { device: '/dev/disk/by-id/os/' } }),
    (_: Doc, n2: Doc) => (n2.install = { data_disk: '/dev//vdb' }),
    (_: Doc, n2: Doc) => (n2.install = { wipe_disks_list: ['/dev/vdb/'] }),
  ]) {
    const { errors, r } = await compile('v1.8.1', edit);
    assert.equal(errors, ['INSTALLER_DEVICE_PATH'], JSON.stringify(r.diagnostics));
    assert.match(r.diagnostics.find((d) => d.code === 'INSTALLER_DEVICE_PATH')!.hint!, /Write it as \/dev\/(disk\/by-id\/os|vdb)\./);
  }
  // The mutation the corpus test uses leaves the rule out.
  process.env.HARVGEN_TEST_MUTATE = 'drop-installer-rule:disk-device-path';
  try {
    const { errors } = await compile('v1.8.1', (_, n2) => (n2.install = { device: '/dev/disk/by-id/os/' }));
    assert.equal(errors, []);
  } finally {
    delete process.env.HARVGEN_TEST_MUTATE;
  }
});

test('NIC names: the loopback and names Linux cannot have are INSTALLER_NIC_INVALID', async () => {
  assert.ok(nicNameProblem('a-very-long-interface-name'));
  assert.ok(nicNameProblem('eth0 '));
  assert.ok(nicNameProblem('eth/0'));
  assert.is(nicNameProblem('enp1s0f0'), undefined);
  for (const interfaces of [[{ name: 'lo' }], [{ name: 'eth0 ' }], [{ name: 'a-very-long-interface-name' }]]) {
    const { errors } = await compile('v1.5.2', (_, n2) => (n2.config = { install: { management_interface: { interfaces } } }));
    assert.equal(errors, ['INSTALLER_NIC_INVALID'], JSON.stringify(interfaces));
  }
  const lo = await compile('v1.5.2', (_, n2) => (n2.interfaces = [{ name: 'lo', mac: '52:54:00:00:00:02' }]));
  assert.equal(lo.errors, ['INSTALLER_NIC_INVALID']);
});

test('mtu 0 and vlan 0 are unset, as the installer reads them', async () => {
  const { errors, node, r } = await compile('v1.8.1', (_, n2) => Object.assign(n2, { mtu: 0, vlan: 0 }));
  assert.equal(errors, []);
  const mgmt = (buildHarvesterConfig(r.model!, node!, 'filled').install as Doc).management_interface as Doc;
  assert.is(mgmt.mtu, undefined);
  assert.is(mgmt.vlan_id, undefined);
  assert.not.ok(kernelArgs(r.model!, node!, node!.macs[0]).some((a) => a.startsWith('vlan=')));
  // vlan 0 is the untagged VLAN the kernel line boots on: a config: vlan_id 10 disagrees with it.
  const mismatch = await compile('v1.8.1', (_, n2) =>
    Object.assign(n2, { vlan: 0, config: { install: { management_interface: { vlan_id: 10 } } } }),
  );
  assert.equal(mismatch.errors, ['NODE_VLAN_CONFIG_MISMATCH']);
});

test('a label whose prefix is longer than 253 characters is refused, as the installer refuses it', async () => {
  const long = `${'a'.repeat(63)}.${'a'.repeat(63)}.${'a'.repeat(63)}.${'a'.repeat(63)}/a`;
  const { errors } = await compile('v1.8.1', (_, n2) => (n2.config = { os: { labels: { [long]: 'x' } } }));
  assert.equal(errors, ['HARVESTER_CONFIG_INVALID']);
  const ok = await compile('v1.8.1', (_, n2) => (n2.config = { os: { labels: { [`${'a'.repeat(63)}.example.com/rack`]: 'r1' } } }));
  assert.equal(ok.errors, []);
});

test("a node's IPv6 DNS server: taken before v1.7 (IPv4 ones on the kernel line), refused from v1.7 (NetworkManager drops it); network.dns stays IPv4", async () => {
  const nm = await compile('v1.8.1', (_, n2) => (n2.dns = ['2001:db8::53', '10.0.0.53']));
  assert.equal(nm.errors, ['INSTALLER_DNS_UNUSED']);
  assert.match(nm.messages, '[ipv4] dns=');
  const nmConfig = await compile('v1.7.1', (_, n2) => (n2.config = { os: { dns_nameservers: ['10.0.0.53', '2001:db8::53'] } }));
  assert.equal(nmConfig.errors, ['INSTALLER_DNS_UNUSED']);
  const { errors, node, r } = await compile('v1.6.1', (_, n2) => (n2.dns = ['2001:db8::53', '10.0.0.53']));
  assert.equal(errors, []);
  assert.equal((buildHarvesterConfig(r.model!, node!, 'filled').os as Doc).dns_nameservers, ['2001:db8::53', '10.0.0.53']);
  const args = kernelArgs(r.model!, node!, node!.macs[0]);
  assert.equal(
    args.filter((a) => a.startsWith('nameserver=')),
    ['nameserver=10.0.0.53'],
  );
  const underConfig = await compile('v1.6.1', (_, n2) => (n2.config = { os: { dns_nameservers: ['2001:db8::53'] } }));
  assert.equal(underConfig.errors, []);
  const notAnAddress = await compile('v1.6.1', (_, n2) => (n2.config = { os: { dns_nameservers: [':::'] } }));
  assert.equal(notAnAddress.errors, ['INSTALLER_DNS_UNUSED']);
  const nonCanonical = await compile('v1.6.1', (_, n2) => (n2.dns = ['2001:DB8:0::53']));
  assert.ok(nonCanonical.errors.includes('NET_IP_INVALID'), nonCanonical.errors.join());
  assert.match(nonCanonical.r.diagnostics.find((d) => d.code === 'NET_IP_INVALID')!.hint!, '2001:db8::53');
  const site = await compile('v1.8.1', (s) => ((s.network as Doc).dns = ['2001:db8::53']));
  assert.ok(site.errors.includes('NET_DNS_INVALID'), site.errors.join());
  assert.match(site.messages, "DHCPv4's DNS option");
});

test('empty install.role, empty server_url on the create node and a spaced install.tty pass, the last with a warning', async () => {
  const role = await compile('v1.8.1', (_, n2) => (n2.config = { install: { role: '' } }));
  assert.equal(role.errors, []);
  const url = await compile('v1.8.1', (_, __, n1) => (n1.config = { server_url: '' }));
  assert.equal(url.errors, []);
  const joinUrl = await compile('v1.8.1', (_, n2) => (n2.config = { server_url: '' }));
  assert.equal(joinUrl.errors, ['HARVESTER_CONFIG_INVALID']);
  const tty = await compile('v1.8.1', (_, n2) => (n2.config = { install: { tty: 'tty 1' } }));
  assert.equal(tty.errors, []);
  assert.ok(tty.warnings.includes('INSTALLER_VALUE_READ_AS'));
  assert.match(tty.messages, 'has a space');
});

test('booleans as text: before v1.8 only `true` reads true and a list is refused; from v1.8 the mapper', async () => {
  const v17 = { major: 1, minor: 7 };
  const v18 = { major: 1, minor: 8 };
  assert.is(installerBool('true', v17), true);
  for (const t of ['yes', 'TRUE', 'True', 't', 'y', ' true', 'on', '1']) assert.is(installerBool(t, v17), false, String(t));
  for (const t of [['yes'], 1, 0, { a: 1 }]) assert.is(installerBool(t, v17), 'refused', JSON.stringify(t));
  // poweroff takes no text at any release (its field is spelt powerOff): the installer cannot load it.
  assert.is(installerBool('true', v17, 'install.poweroff'), 'refused');
  assert.is(installerBool('yes', v18, 'install.poweroff'), 'refused');
  assert.is(installerBool(true, v18, 'install.poweroff'), true);
  for (const t of ['yes', 'TRUE', 'True', 't', 'y', ' true']) assert.is(installerBool(t, v18), true, t);
  for (const t of ['on', '1', 1]) assert.is(installerBool(t, v18), false, String(t));
  // The written config holds what the release reads.
  const old = await compile('v1.7.1', (_, n2) => (n2.config = { install: { wipe_all_disks: 'yes' } }));
  assert.equal(old.errors, []);
  assert.is((buildHarvesterConfig(old.r.model!, old.node!, 'filled').install as Doc).wipe_all_disks, false);
  assert.match(old.messages, 'before v1.8 only the text true reads as true');
  const newer = await compile('v1.8.1', (_, n2) => (n2.config = { install: { wipe_all_disks: 'yes' } }));
  assert.is((buildHarvesterConfig(newer.r.model!, newer.node!, 'filled').install as Doc).wipe_all_disks, true);
  const list = await compile('v1.7.1', (_, n2) => (n2.config = { install: { wipe_all_disks: ['yes'] } }));
  assert.ok(list.errors.includes('INSTALLER_VALUE_READ_AS'), JSON.stringify(list.r.diagnostics));
});

test('an 8-byte VIP MAC is refused with the reason', async () => {
  const { errors, messages } = await compile('v1.8.1', (s) => ((s.cluster as Doc).vip_hw_addr = '02:00:00:00:00:00:00:01'));
  assert.equal(errors, ['CLUSTER_VIP_HW_ADDR']);
  assert.match(messages, 'macvlan');
});

test.run();
