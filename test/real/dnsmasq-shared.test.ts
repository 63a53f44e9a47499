// One real dnsmasq serving two sites at once, as a boot host running several sites does: one
// global.conf (the same bytes from both sites), each site's harvgen.conf, and both sites'
// reservation files copied into one dhcp-hostsdir. The dnsmasq runs in a network namespace with
// one veth per site network; a udhcpc client on each network imitates the site's machines (iPXE,
// BIOS and UEFI firmware PXE, UEFI HTTP boot). The inventories name the test's interfaces, TFTP
// root and hosts directory, so the generated files are used as they are (nothing replaced).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { dnsmasqTest, startDnsmasq } from './helpers/dnsmasq.ts';
import { dhcpClient, type DhcpClient } from './helpers/dhcp.ts';
import { createNetns, type Netns } from './helpers/netns.ts';
import { IPXE_DIR } from './helpers/lab.ts';
import { describe, waitFor, type Daemon } from './helpers/proc.ts';
import { tempDir } from '../helpers/tmp.ts';
import { exampleSite } from '../helpers/example.ts';
import { build } from '../../src/index.ts';

interface Site {
  name: string;
  net: number;
  iface: string;
  dir: string;
  /** Built tree (`<out>/<site>`). */
  tree: string;
  nodes: { hostname: string; mac: string; ip: string }[];
}

const NETS = [
  { name: 'shared_a', net: 1, iface: 'hgsa0', mac: '52:54:00:a1:bb' },
  { name: 'shared_b', net: 2, iface: 'hgsb0', mac: '52:54:00:b2:bb' },
] as const;

/** Two variants of location_x on 10.0.1.0/24 and 10.0.2.0/24, both on dnsmasq host `boot1`, built together. */
async function buildSites(work: string, tftpRoot: string, hostsDir: string): Promise<Site[]> {
  const sites: Site[] = [];
  for (const n of NETS) {
    const dir = path.join(work, 'sites', n.name);
    await mkdir(dir, { recursive: true });
    const doc = exampleSite();
    doc.site = n.name as never;
    doc.boot = { ...doc.boot, http_boot: true };
    doc.dnsmasq = { host: 'boot1', interface: n.iface, tftp_root: tftpRoot, hosts_dir: hostsDir, dns: false };
    const text = stringify(doc)
      .replaceAll('192.168.122.', `10.0.${n.net}.`)
      // The example writes its MACs in several spellings (harvgen normalizes them).
      .replace(/52[:-]?54[:-]?00[:-]?aa[:-]?bb[:-]?/gi, `${n.mac}:`);
    await writeFile(path.join(dir, 'site.yaml'), text);
    sites.push({
      name: n.name,
      net: n.net,
      iface: n.iface,
      dir,
      tree: '',
      nodes: [1, 2, 3].map((i) => ({ hostname: `hv-${i}`, mac: `${n.mac}:0${i}`, ip: `10.0.${n.net}.1${i}` })),
    });
  }
  const out = path.join(work, 'out');
  const r = await build({ sites: sites.map((s) => s.dir), outDir: out });
  if (!r.ok) throw new Error(`build failed:\n${r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n')}`);
  for (const s of sites) s.tree = path.join(out, s.name);
  return sites;
}

interface Setup {
  sites: Site[];
  work: string;
  hostsDir: string;
  server: Netns;
  clients: Netns[];
  dhcp: DhcpClient[];
  dnsmasq?: Daemon;
}

/**
 * Namespaces and veths (server side `hgsa0`/`hgsb0` at 10.0.N.1, one client namespace per
 * network), the TFTP root with Debian's iPXE, and the hosts directory with every reservation file
 * except those `hold` names (copied in later by the test).
 */
async function setUp(label: string, hold: readonly string[] = []): Promise<Setup> {
  const work = tempDir(`dnsmasq-shared-${label}`);
  const tftpRoot = path.join(work, 'tftp');
  const hostsDir = path.join(work, 'hosts');
  await mkdir(tftpRoot);
  await mkdir(hostsDir);
  for (const f of ['undionly.kpxe', 'ipxe.efi', 'snponly.efi']) await copyFile(path.join(IPXE_DIR, f), path.join(tftpRoot, f));
  const sites = await buildSites(work, tftpRoot, hostsDir);
  // The operator's copy: `cp out/*/dnsmasq/hosts/* <hosts_dir>/`.
  for (const s of sites) {
    for (const f of await readdir(path.join(s.tree, 'dnsmasq/hosts'))) {
      if (!hold.includes(f)) await copyFile(path.join(s.tree, 'dnsmasq/hosts', f), path.join(hostsDir, f));
    }
  }
  const server = await createNetns('dss');
  const setup: Setup = { sites, work, hostsDir, server, clients: [], dhcp: [] };
  try {
    for (const s of sites) {
      const c = await createNetns(`dsc${s.net}`);
      setup.clients.push(c);
      await server.sh(['ip', 'link', 'add', s.iface, 'type', 'veth', 'peer', 'name', 'hgc0', 'netns', c.name]);
      await server.sh(['ip', 'addr', 'add', `10.0.${s.net}.1/24`, 'dev', s.iface]);
      await server.sh(['ip', 'link', 'set', s.iface, 'up']);
      const cw = path.join(work, `client${s.net}`);
      await mkdir(cw);
      setup.dhcp.push(await dhcpClient(c, 'hgc0', cw, '24'));
    }
  } catch (err) {
    await tearDown(setup);
    throw err;
  }
  return setup;
}

async function tearDown(s: Setup): Promise<void> {
  await s.dnsmasq?.stop();
  for (const c of s.clients) await c.delete();
  await s.server.delete();
}

/** The config of the boot host: global.conf once, every site's harvgen.conf (optionally edited), and the test's lease file and logging. */
async function hostConfig(s: Setup, edit: (site: string, text: string) => string = (_, t) => t): Promise<string> {
  const dir = path.join(s.work, 'dnsmasq.d');
  await mkdir(dir, { recursive: true });
  const globals = await Promise.all(s.sites.map((x) => readFile(path.join(x.tree, 'dnsmasq/global.conf'), 'utf8')));
  assert.ok(
    globals.every((g) => g === globals[0]),
    'the sites agree, so their global.conf is the same file',
  );
  await writeFile(path.join(dir, 'harvgen-global.conf'), globals[0]!);
  for (const x of s.sites) {
    const text = await readFile(path.join(x.tree, 'dnsmasq/harvgen.conf'), 'utf8');
    await writeFile(path.join(dir, `harvgen-${x.name}.conf`), edit(x.name, text));
  }
  const main = path.join(s.work, 'dnsmasq.conf');
  // The lease file is the host's (Debian's default is /var/lib/misc); bind-interfaces keeps this
  // dnsmasq on the interfaces the files name.
  await writeFile(
    main,
    [`conf-dir=${dir},*.conf`, `dhcp-leasefile=${path.join(s.work, 'leases')}`, 'bind-interfaces', 'log-dhcp', ''].join('\n'),
  );
  return main;
}

/** What differs from the inventory when every node of every site asks as iPXE, and the first node of each as firmware and HTTP boot. */
async function problemsOf(s: Setup): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, site] of s.sites.entries()) {
    const c = s.dhcp[i]!;
    const server = `http://10.0.${site.net}.1`;
    for (const node of site.nodes) {
      const who = `${site.name} ${node.hostname} as iPXE`;
      const l = await c.query(node.mac, { userClass: 'iPXE', arch: 7 });
      if (!l) {
        problems.push(`${who}: no lease\n${c.lastLog()}`);
        continue;
      }
      if (l.ip !== node.ip) problems.push(`${who}: got ${l.ip}, expected its reservation ${node.ip}`);
      if (l.boot_file !== `${server}/boot.ipxe`) problems.push(`${who}: boot file "${l.boot_file}", expected ${server}/boot.ipxe`);
      if (l.router !== `10.0.${site.net}.1`) problems.push(`${who}: router "${l.router}"`);
    }
    const first = site.nodes[0]!;
    for (const [what, kind, want] of [
      ['BIOS PXE', { arch: 0 }, 'undionly.kpxe'],
      ['UEFI PXE', { arch: 7 }, 'snponly.efi'],
      ['UEFI HTTP boot', { arch: 16, vendorClass: 'HTTPClient:Arch:00016' }, `${server}/snponly.efi`],
    ] as const) {
      const who = `${site.name} ${first.hostname} as ${what}`;
      const l = await c.query(first.mac, kind);
      if (!l) problems.push(`${who}: no lease\n${c.lastLog()}`);
      else if (l.ip !== first.ip) problems.push(`${who}: got ${l.ip}, expected ${first.ip}`);
      else if (l.boot_file !== want) problems.push(`${who}: boot file "${l.boot_file}", expected ${want}`);
      else if (!want.startsWith('http')) {
        const got = await c.tftpGet(want, `10.0.${site.net}.1`);
        const expected = await readFile(path.join(IPXE_DIR, want));
        if (typeof got === 'string') problems.push(`${who}: TFTP download of ${want} failed\n${got}`);
        else if (!got.equals(expected)) problems.push(`${who}: TFTP served a different ${want}`);
      }
    }
  }
  return problems;
}

function report(s: Setup, problems: string[]): string {
  return `${problems.join('\n')}\n--- dnsmasq log (tail) ---\n${(s.dnsmasq?.output() ?? '').split('\n').slice(-60).join('\n')}`;
}

const needs = (): boolean =>
  requireProgram('dnsmasq', 'busybox', 'ip', '/usr/lib/ipxe/undionly.kpxe', '/usr/lib/ipxe/snponly.efi') && requireRoot();

test('one dnsmasq serves two sites at once: every node its reservation and boot.ipxe, firmware its iPXE over TFTP, HTTP boot its URL', async () => {
  if (!needs()) return;
  const s = await setUp('both');
  try {
    const conf = await hostConfig(s);
    const syntax = await dnsmasqTest(conf);
    assert.ok(syntax.code === 0, describe(syntax));
    s.dnsmasq = await startDnsmasq(s.server, conf);
    const problems = await problemsOf(s);
    assert.equal(problems, [], report(s, problems));
  } finally {
    await tearDown(s);
  }
});

test('a reservation file copied into the hosts directory while dnsmasq runs is answered without a restart', async () => {
  if (!needs()) return;
  const late = 'shared_b.hv-3';
  const s = await setUp('late', [late]);
  try {
    s.dnsmasq = await startDnsmasq(s.server, await hostConfig(s));
    const b = s.sites[1]!;
    const node = b.nodes[2]!;
    const before = await s.dhcp[1]!.query(node.mac, { userClass: 'iPXE', arch: 7 });
    assert.ok(before && before.ip !== node.ip, `without its file hv-3 gets a pool address (got ${before?.ip})`);
    // As rsync or cp would: a temp name (dnsmasq skips dot files), then a rename.
    await copyFile(path.join(b.tree, 'dnsmasq/hosts', late), path.join(s.hostsDir, `.${late}.tmp`));
    await rename(path.join(s.hostsDir, `.${late}.tmp`), path.join(s.hostsDir, late));
    const read = await waitFor(() => s.dnsmasq!.output().includes(`read ${path.join(s.hostsDir, late)}`), 5_000);
    assert.ok(read, report(s, ['dnsmasq did not read the new file']));
    // Its old lease is released by the client's next DISCOVER from a fresh interface: the reservation wins.
    const after = await s.dhcp[1]!.query(node.mac, { userClass: 'iPXE', arch: 7 });
    assert.is(after?.ip, node.ip, report(s, [`after the file: ${after?.ip}`, s.dhcp[1]!.lastLog()]));
    assert.ok(!s.dnsmasq.exited() && s.dnsmasq.output().split('started, version').length === 2, 'the same dnsmasq, started once');
  } finally {
    await tearDown(s);
  }
});

test('mutation: the old per-site global lines (one site with interface=, the other without) leave the other site unanswered', async () => {
  if (!needs()) return;
  const s = await setUp('old-lines');
  try {
    // What harvgen wrote before: a site without dnsmasq.interface had no interface= line, each site
    // file its own tftp-root= (the last one read wins).
    const conf = await hostConfig(
      s,
      (site, text) =>
        (site === 'shared_a' ? text.replace(/^interface=.*\n/m, '') : text) +
        `enable-tftp\ntftp-root=${path.join(s.work, `tftp-${site}`)}\n`,
    );
    for (const x of s.sites) await mkdir(path.join(s.work, `tftp-${x.name}`));
    s.dnsmasq = await startDnsmasq(s.server, conf);
    // One question is enough: every one from shared_a's network goes unanswered (12 s each).
    const a = s.sites[0]!.nodes[0]!;
    const lease = await s.dhcp[0]!.query(a.mac, { userClass: 'iPXE', arch: 7 });
    assert.is(lease, undefined, report(s, [`shared_a hv-1 got ${lease?.ip}: the old lines went unnoticed`]));
    // shared_b, whose interface the files name, is still served.
    const b = s.sites[1]!.nodes[0]!;
    assert.is((await s.dhcp[1]!.query(b.mac, { userClass: 'iPXE', arch: 7 }))?.ip, b.ip, report(s, [s.dhcp[1]!.lastLog()]));
  } finally {
    await tearDown(s);
  }
});

test.run();
