// For the inputs of the harvester-cloud seed (v1.4.1, 3 nodes, 192.168.122.0/24, VIP .120),
// the generated files carry the same information as the seed's hand-edited examples, minus
// the plaintext password, the autoindex and the shared, sed-rewritten default.ipxe.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { build } from '../src/index.ts';
import { SECRET_MARKERS } from '../src/load/secrets.ts';
import { exampleWithSecrets } from './helpers/example.ts';
import { tempDir } from './helpers/tmp.ts';

const out = resolve(import.meta.dirname, '..', 'out/location_x');
const read = (p: string) => readFileSync(join(out, p), 'utf8');
type Config = {
  scheme_version: number;
  server_url?: string;
  token: string;
  os: Record<string, unknown>;
  install: Record<string, unknown> & { management_interface: Record<string, unknown> };
};

test("the iPXE script of the create node has every kernel argument of the seed's default.ipxe", () => {
  const script = read('ipxe/52-54-00-aa-bb-01.ipxe');
  const kernel = script.split('\n').find((l) => l.startsWith('kernel '))!;
  assert.match(kernel, /^kernel --name vmlinuz http:\/\/192\.168\.122\.1\/artifacts\/v1\.4\.1\/harvester-v1\.4\.1-vmlinuz-amd64 /);
  for (const arg of [
    'initrd=initrd',
    'ip=dhcp',
    'console=tty1',
    'net.ifnames=1',
    'rd.cos.disable',
    'rd.noverifyssl',
    'root=live:http://192.168.122.1/artifacts/v1.4.1/harvester-v1.4.1-rootfs-amd64.squashfs',
    'harvester.install.config_url=http://192.168.122.1/harvester/hv-1.yaml',
    'harvester.install.skipchecks=true',
    'harvester.install.automatic=true',
  ]) {
    assert.ok(kernel.split(' ').includes(arg), `missing ${arg}`);
  }
  assert.match(script, /\ninitrd --name initrd http:\/\/192\.168\.122\.1\/artifacts\/v1\.4\.1\/harvester-v1\.4\.1-initrd-amd64 /);
  assert.match(script, /\nboot /);
  // Instead of one default.ipxe rewritten with sed between VM launches: one script per node.
  assert.match(read('ipxe/52-54-00-aa-bb-02.ipxe'), /config_url=http:\/\/192\.168\.122\.1\/harvester\/hv-2\.yaml/);
  assert.match(read('ipxe/52-54-00-aa-bb-03.ipxe'), /config_url=http:\/\/192\.168\.122\.1\/harvester\/hv-3\.yaml/);
});

test("the create config has the seed's create_cloud_config.yaml values, with a hashed password", async () => {
  // The deploy tree (the committed out/ holds markers in place of the token and the password).
  const deploy = tempDir();
  const r = await build({ sites: [exampleWithSecrets('location_x')], outDir: deploy, secrets: 'filled' });
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const c = parse(readFileSync(join(deploy, 'location_x/harvester/hv-1.yaml'), 'utf8')) as Config;
  assert.equal(parse(read('harvester/hv-1.yaml')), {
    ...c,
    token: SECRET_MARKERS.token,
    os: { ...c.os, password: SECRET_MARKERS.password },
  });
  assert.is(c.scheme_version, 1);
  assert.is(c.token, 'SecretToken.123');
  assert.is(c.server_url, undefined);
  assert.is(c.os.hostname, 'hv-1');
  assert.equal(c.os.ntp_servers, ['0.suse.pool.ntp.org', '1.suse.pool.ntp.org']);
  assert.match(String(c.os.password), /^\$6\$/);
  assert.is(c.install.mode, 'create');
  // The seed's VMs named the NIC ens3; harvgen's q35 lab VMs put it alone on PCIe bus 1: enp1s0.
  assert.equal(c.install.management_interface.interfaces, [{ name: 'enp1s0' }]);
  assert.is(c.install.management_interface.method, 'dhcp');
  assert.equal(c.install.management_interface.bond_options, { mode: 'active-backup', miimon: 100 });
  assert.is(c.install.device, '/dev/vda');
  assert.is(c.install.iso_url, 'http://192.168.122.1/artifacts/v1.4.1/harvester-v1.4.1-amd64.iso');
  assert.is(c.install.tty, 'tty1,115200n8');
  assert.is(c.install.vip, '192.168.122.120');
  assert.is(c.install.vip_mode, 'static');
  assert.not.ok('default_route' in c.install.management_interface, "the seed's default_route is ignored by the installer and not emitted");
});

test("the join configs have the seed's join_cloud_config.yaml values, one per node", () => {
  for (const host of ['hv-2', 'hv-3']) {
    const c = parse(read(`harvester/${host}.yaml`)) as Config;
    assert.is(c.server_url, 'https://192.168.122.120:443');
    assert.is(c.install.mode, 'join');
    assert.is(c.os.hostname, host);
    assert.is(c.install.vip, undefined);
    assert.is(c.install.device, '/dev/vda');
  }
});

test("the libvirt network matches the seed's vlan1.xml and adds reservations and the iPXE split", () => {
  const xml = read('libvirt/network.xml');
  assert.match(xml, /<name>vlan1<\/name>/);
  assert.match(xml, /<bridge name='virbr1'/);
  assert.match(xml, /<forward mode='nat'\/>/);
  assert.match(xml, /<ip address='192\.168\.122\.1' netmask='255\.255\.255\.0'>/);
  assert.match(xml, /<range start='192\.168\.122\.150' end='192\.168\.122\.250'\/>/);
  assert.match(xml, /<host mac='52:54:00:aa:bb:01' name='hv-1' ip='192\.168\.122\.11'\/>/);
  assert.match(xml, /dhcp-boot=tag:ipxe,http:\/\/192\.168\.122\.1\/boot\.ipxe/);
});

test("the nginx config serves the seed's address without autoindex", () => {
  const conf = read('nginx/harvgen.conf');
  assert.match(conf, /listen 192\.168\.122\.1:80;/);
  assert.match(conf, /autoindex off;/);
  assert.not.match(conf, /autoindex on/);
});

test("the socat units forward 443 and 6443 to the VIP and always restart, like the seed's unit", () => {
  for (const port of [443, 6443]) {
    const unit = read(`systemd/harvgen-location-x-forward-${port}.service`);
    assert.match(unit, new RegExp(`ExecStart=/usr/bin/socat TCP-LISTEN:${port},fork,reuseaddr TCP:192\\.168\\.122\\.120:${port}`));
    assert.match(unit, /Restart=always/);
    assert.match(unit, /WantedBy=multi-user\.target/);
  }
});

test('the lab VMs boot disk first, then network, and restart on reboot (no cron restart script)', () => {
  const dom = read('libvirt/hv-1.xml');
  assert.match(
    dom,
    /<source file='\/var\/lib\/libvirt\/images\/location-x-hv-1\.qcow2'\/>\s+<target dev='vda' bus='virtio'\/>\s+<boot order='1'\/>/,
  );
  assert.match(
    dom,
    /<mac address='52:54:00:aa:bb:01'\/>\s+<source network='vlan1'\/>\s+<model type='virtio'\/>\s+<address type='pci'[^>]*\/>\s+<boot order='2'\/>/,
  );
  assert.match(dom, /<on_reboot>restart<\/on_reboot>/);
  assert.match(dom, /<os firmware='efi'>/);
});

test('the generated shell scripts are valid POSIX sh', () => {
  for (const script of ['artifacts/fetch.sh', 'libvirt/define.sh']) {
    const r = spawnSync('sh', ['-n', join(out, script)], { encoding: 'utf8' });
    assert.is(r.status, 0, `${script}: ${r.stderr}`);
  }
});

test.run();
