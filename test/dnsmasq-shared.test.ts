// One dnsmasq for several sites: each site's harvgen.conf holds only lines scoped to its range, the
// process-wide ones are in global.conf (the same bytes for sites that agree), the reservations are
// one file per node for dhcp-hostsdir; sites on one dnsmasq host that would disturb each other
// are SITE_DNSMASQ_CONFLICT. test/real/dnsmasq-shared.test.ts runs the files in a real dnsmasq.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { check, compileSite } from '../src/index.ts';
import { tempDir } from './helpers/tmp.ts';
import { exampleSite } from './helpers/example.ts';

/**
 * A copy of location_x named `name` on network 10.0.<net>.0/24 (every address moved), its boot
 * server at .1 of that network, with `dnsmasq` settings merged in.
 */
function site(root: string, name: string, net: number, dnsmasq: Record<string, unknown> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const doc = exampleSite();
  doc.site = name as never;
  doc.dnsmasq = { host: 'boot1', ...dnsmasq };
  writeFileSync(join(dir, 'site.yaml'), stringify(doc).replaceAll('192.168.122.', `10.0.${net}.`));
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
  assert.match(fa.get('dnsmasq/hosts/site_a.hv-1')!, /^52:54:00:aa:bb:01,10\.0\.1\.11,hv-1$/m);
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
  const a = site(root, 'site_a', 1);
  const b = site(root, 'site_b', 1);
  // Apart on the web server (prefixes), together on one dnsmasq.
  for (const [dir, p] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    const doc = exampleSite();
    doc.site = `site_${p}` as never;
    doc.dnsmasq = { host: 'boot1' };
    doc.boot = { ...doc.boot, server: `http://192.168.122.1/${p}` };
    doc.harvester = { ...doc.harvester, artifacts: `http://192.168.122.1/${p}/artifacts/v1.4.1` };
    writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  }
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
  const c = site(root, 'site_c', 3, { host: undefined, tftp_root: '/srv/tftp' });
  const e = site(root, 'site_e', 3, { host: undefined });
  for (const [dir, p] of [
    [c, 'c'],
    [e, 'e'],
  ] as const) {
    const doc = exampleSite();
    doc.site = `site_${p}` as never;
    doc.boot = { ...doc.boot, server: `http://192.168.122.1/${p}` };
    doc.harvester = { ...doc.harvester, artifacts: `http://192.168.122.1/${p}/artifacts/v1.4.1` };
    if (p === 'c') doc.dnsmasq = { tftp_root: '/srv/tftp' };
    writeFileSync(join(dir, 'site.yaml'), stringify(doc));
  }
  assert.equal((await check({ sites: [c, e] })).diagnostics, []);
});

test.run();
