// One dnsmasq for several sites: each site's harvgen.conf holds only lines scoped to its range, the
// process-wide ones are in global.conf (the same bytes for sites that agree), the reservations are
// one file per node for dhcp-hostsdir; sites on one dnsmasq host that would disturb each other
// are SITE_DNSMASQ_CONFLICT. And the proxy form (dnsmasq.mode: proxy). test/real/dnsmasq-shared
// and dnsmasq-proxy.test.ts run the files in a real dnsmasq.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { build, check, compileSite } from '../src/index.ts';
import { tempDir } from './helpers/tmp.ts';
import { exampleSite, ownMacs } from './helpers/example.ts';

/**
 * A copy of location_x named `name` on network 10.0.<net>.0/24 (every address moved), its boot
 * server at .1 of that network, with `dnsmasq` settings merged in.
 */
function site(root: string, name: string, net: number, dnsmasq: Record<string, unknown> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const doc = exampleSite();
  doc.site = name as never;
  // Machines of its own: 52:54:00:aa:<net>:0N.
  (doc.nodes as unknown as Record<string, unknown>[]).forEach((n, i) => {
    delete n.macs;
    n.mac = `52:54:00:aa:${net.toString(16).padStart(2, '0')}:0${i + 1}`;
  });
  doc.dnsmasq = { host: 'boot1', ...dnsmasq };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc).replaceAll('192.168.122.', `10.0.${net}.`));
  return dir;
}

/**
 * A copy of location_x named `site_<p>` on its own network 192.168.122.0/24, served under the
 * prefix /<p> of the one boot server (apart on the web server, as SITE_SERVER_CONFLICT wants).
 */
function prefixedSite(root: string, p: string, dnsmasq?: Record<string, unknown>): string {
  const dir = join(root, `site_${p}`);
  mkdirSync(dir, { recursive: true });
  const doc = exampleSite();
  doc.site = `site_${p}` as never;
  ownMacs(doc, `site_${p}`);
  if (dnsmasq) doc.dnsmasq = dnsmasq;
  doc.boot = { ...doc.boot, server: `http://192.168.122.1/${p}` };
  doc.harvester = { ...doc.harvester, artifacts: `http://192.168.122.1/${p}/artifacts/v1.4.1` };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  return dir;
}

async function files(dir: string): Promise<Map<string, string>> {
  const r = await compileSite(dir);
  assert.ok(r.artifacts, JSON.stringify(r.diagnostics));
  return new Map(r.artifacts.map((a) => [a.path, String(a.contents)]));
}

test('sites on one dnsmasq that agree pass, and get the same global.conf', async () => {
  const root = tempDir('dnsmasq-shared');
  const a = site(root, 'site_a', 1, { interface: 'br-a' });
  const b = site(root, 'site_b', 2, { interface: 'br-b' });
  const r = await check({ sites: [a, b] });
  assert.equal(r.diagnostics, []);
  const fa = await files(a);
  const fb = await files(b);
  assert.is(fa.get('dnsmasq/global.conf'), fb.get('dnsmasq/global.conf'));
  assert.match(fa.get('dnsmasq/global.conf')!, /^enable-tftp$/m);
  assert.match(fa.get('dnsmasq/global.conf')!, /^tftp-root=\/var\/lib\/tftpboot$/m);
  assert.match(fa.get('dnsmasq/global.conf')!, /^dhcp-hostsdir=\/etc\/harvgen\/dhcp-hosts$/m);
  assert.not.match(fa.get('dnsmasq/global.conf')!, /site_a/);
  // The site file: only lines scoped to the site (its interface adds to the others').
  const conf = fa.get('dnsmasq/harvgen.conf')!;
  assert.match(conf, /^interface=br-a$/m);
  for (const global of [/^enable-tftp/m, /^tftp-root=/m, /^port=/m, /^dhcp-hostsdir=/m, /^dhcp-host=/m])
    assert.not.match(conf, global, `site file has ${global}`);
  for (const line of conf.split('\n').filter((l) => /^dhcp-(boot|option|option-force|range)=/.test(l)))
    assert.match(line, /^dhcp-[a-z-]+=(set|tag):harvgen-site_a,/, `unscoped line ${line}`);
  // One reservation file per node, named <site>.<hostname>.
  assert.equal(
    [...fa.keys()].filter((p) => p.startsWith('dnsmasq/hosts/')),
    ['dnsmasq/hosts/site_a.hv-1', 'dnsmasq/hosts/site_a.hv-2', 'dnsmasq/hosts/site_a.hv-3'],
  );
  assert.match(fa.get('dnsmasq/hosts/site_a.hv-1')!, /^52:54:00:aa:01:01,10\.0\.1\.11,hv-1$/m);
});

test('sites on one dnsmasq with different TFTP roots are SITE_DNSMASQ_CONFLICT at the tftp_root that was set', async () => {
  const root = tempDir('dnsmasq-shared');
  const a = site(root, 'site_a', 1);
  const b = site(root, 'site_b', 2, { tftp_root: '/srv/tftp' });
  const r = await check({ sites: [a, b] });
  const d = r.diagnostics.filter((x) => x.code === 'SITE_DNSMASQ_CONFLICT');
  assert.equal(
    d.map((x) => x.path),
    ['dnsmasq.tftp_root'],
  );
  assert.ok(d[0]!.file!.endsWith('site_b/site.yaml') && d[0]!.line! > 1, JSON.stringify(d[0]));
  assert.match(d[0]!.message, /share one dnsmasq on boot1/);
  assert.match(d[0]!.hint!, /same `dnsmasq\.tftp_root`/);
  // Written on the first site, the position follows it.
  const c = site(root, 'site_c', 3, { tftp_root: '/srv/tftp' });
  const d2 = (await check({ sites: [c, a] })).diagnostics.filter((x) => x.code === 'SITE_DNSMASQ_CONFLICT');
  assert.ok(d2.length === 1 && d2[0]!.file!.endsWith('site_c/site.yaml'), JSON.stringify(d2));
});

test('an up-to-date site is compiled again beside a new site on its dnsmasq host, so their conflict is still seen', async () => {
  const root = tempDir('dnsmasq-shared-utd');
  const a = site(root, 'site_a', 1);
  // Inputs (and their ctime) changed in the build's own clock tick are compiled again by the next build.
  await new Promise((r) => setTimeout(r, 250));
  // Outside the directory the sites are in (listed for sites/_defaults.yaml: a new out/ there is a change).
  const out = join(tempDir('dnsmasq-shared-utd-out'), 'out');
  assert.ok((await build({ sites: [a], outDir: out })).ok);
  // Output written within the build's clock tick is not trusted by the next build either.
  await new Promise((r) => setTimeout(r, 250));
  const again = await build({ sites: [a], outDir: out });
  assert.ok(again.sites[0]!.upToDate, 'alone, site_a is up to date');
  // site_b joins boot1 with another TFTP root: site_a's record names its dnsmasq host, so it is compiled with it.
  const b = site(root, 'site_b', 2, { tftp_root: '/srv/tftp' });
  const both = await build({ sites: [a, b], outDir: out });
  assert.ok(
    both.diagnostics.some((d) => d.code === 'SITE_DNSMASQ_CONFLICT'),
    JSON.stringify(both.diagnostics.map((d) => d.code)),
  );
});

test('DNS on for one site and off for another, and different hosts dirs, are each reported', async () => {
  const root = tempDir('dnsmasq-shared');
  const a = site(root, 'site_a', 1, { dns: false });
  const b = site(root, 'site_b', 2, { hosts_dir: '/var/lib/harvgen/hosts' });
  const d = (await check({ sites: [a, b] })).diagnostics.filter((x) => x.code === 'SITE_DNSMASQ_CONFLICT');
  assert.equal(d.map((x) => `${x.file!.replace(/.*\/(site_.)\/.*/, '$1')} ${x.path}`).sort(), [
    'site_a dnsmasq.dns',
    'site_b dnsmasq.hosts_dir',
  ]);
});

test('a site without an interface beside one with an interface is SITE_DNSMASQ_CONFLICT (it would not be heard)', async () => {
  const root = tempDir('dnsmasq-shared');
  const a = site(root, 'site_a', 1);
  const b = site(root, 'site_b', 2, { interface: 'br-b' });
  const d = (await check({ sites: [a, b] })).diagnostics.filter((x) => x.code === 'SITE_DNSMASQ_CONFLICT');
  assert.is(d.length, 1);
  assert.ok(d[0]!.file!.endsWith('site_a/site.yaml'));
  assert.is(d[0]!.path, 'dnsmasq');
  assert.match(d[0]!.message, /site_b \(interface br-b\)/);
});

test('overlapping networks on one dnsmasq are SITE_DNSMASQ_CONFLICT at the second network.cidr', async () => {
  const root = tempDir('dnsmasq-shared');
  // Apart on the web server (prefixes), together on one dnsmasq.
  const a = prefixedSite(root, 'a', { host: 'boot1' });
  const b = prefixedSite(root, 'b', { host: 'boot1' });
  const d = (await check({ sites: [a, b] })).diagnostics;
  assert.equal(
    d.map((x) => `${x.code} ${x.path}`),
    ['SITE_DNSMASQ_CONFLICT network.cidr'],
  );
  assert.ok(d[0]!.file!.endsWith('site_b/site.yaml'));
});

test('sites on different dnsmasq hosts, or without dnsmasq.host, may differ', async () => {
  const root = tempDir('dnsmasq-shared');
  const a = site(root, 'site_a', 1, { host: 'boot1' });
  const b = site(root, 'site_b', 2, { host: 'boot2', tftp_root: '/srv/tftp', interface: 'eth1' });
  assert.equal((await check({ sites: [a, b] })).diagnostics, []);
  // Without dnsmasq.host each site has a dnsmasq of its own (even on one network).
  const c = prefixedSite(root, 'c', { tftp_root: '/srv/tftp' });
  const e = prefixedSite(root, 'e');
  assert.equal((await check({ sites: [c, e] })).diagnostics, []);
});

test('proxy mode: a proxy range, no addresses, options or reservations; a pxe-service per firmware, iPXE its boot.ipxe', async () => {
  const root = tempDir('dnsmasq-proxy');
  const a = site(root, 'site_a', 1, { host: undefined, mode: 'proxy' });
  const f = await files(a);
  const conf = f.get('dnsmasq/harvgen.conf')!;
  const lines = conf.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(lines, [
    'dhcp-range=set:harvgen-site_a,10.0.1.0,proxy,255.255.255.0',
    'dhcp-userclass=set:ipxe,iPXE',
    'dhcp-match=set:ipxe,175',
    'dhcp-match=set:bios,option:client-arch,0',
    'dhcp-match=set:efi64,option:client-arch,7',
    'dhcp-match=set:efi64,option:client-arch,9',
    'dhcp-boot=tag:harvgen-site_a,tag:ipxe,http://10.0.1.1/boot.ipxe',
    'pxe-service=tag:harvgen-site_a,tag:ipxe,x86PC,harvgen-boot,http://10.0.1.1/boot.ipxe',
    'pxe-service=tag:harvgen-site_a,tag:!ipxe,x86PC,harvgen-iPXE,undionly.kpxe',
    'pxe-service=tag:harvgen-site_a,tag:!ipxe,x86-64_EFI,harvgen-iPXE,snponly.efi',
    'pxe-service=tag:harvgen-site_a,tag:!ipxe,BC_EFI,harvgen-iPXE,snponly.efi',
  ]);
  assert.equal(
    [...f.keys()].filter((p) => p.startsWith('dnsmasq/hosts/')),
    [],
  );
  // Nodes that lease their address need a reservation on the other server: a warning per node, at its ip.
  const r = await check({ sites: [a] });
  assert.ok(r.ok);
  assert.equal(
    r.diagnostics.filter((d) => d.code === 'NODE_IP_NOT_RESERVED').map((d) => d.path),
    ['nodes[0].ip', 'nodes[1].ip', 'nodes[2].ip'],
  );
});

test('proxy mode with arm64 nodes and Secure Boot: the arm64 pxe-service, the shim for x86-64 UEFI', async () => {
  const root = tempDir('dnsmasq-proxy');
  const dir = join(root, 'site_p');
  mkdirSync(dir, { recursive: true });
  const doc = exampleSite();
  doc.site = 'site_p' as never;
  doc.dnsmasq = { mode: 'proxy' };
  doc.boot = { ...doc.boot, secure_boot: {} };
  (doc.nodes as unknown as Record<string, unknown>[])[2]!.arch = 'arm64';
  doc.harvester = { ...doc.harvester, version: 'v1.5.1', artifacts: 'http://192.168.122.1/artifacts/v1.5.1' };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  const conf = (await files(dir)).get('dnsmasq/harvgen.conf')!;
  assert.match(conf, /^pxe-service=tag:harvgen-site_p,tag:!ipxe,x86-64_EFI,harvgen-iPXE,snponly-shimx64\.efi$/m);
  assert.match(conf, /^pxe-service=tag:harvgen-site_p,tag:!ipxe,ARM64_EFI,harvgen-iPXE,ipxe-arm64\.efi$/m);
  assert.match(conf, /^dhcp-match=set:efiarm64,option:client-arch,11$/m);
  assert.not.match(conf, /tag:!ipxe,tag:efi|HTTPClient|dhcp-option-force/);
});

test.run();
