// The Kea and ISC dhcpd forms (`dhcp.server: kea | isc`) judged by the programs that read them:
//  - `kea-dhcp4 -t` and `dhcpd -t -cf` accept the generated file of every real-program test site
//    (built as a kea and an isc variant) as it is, and refuse a broken copy;
//  - Kea and dhcpd run the golden fixtures (every class of the split) in a network namespace and
//    answer busybox udhcpc clients imitating iPXE, BIOS, x86-64 and arm64 UEFI PXE and UEFI HTTP
//    boot with the boot file, address, name, router and DNS the inventory says; without the split
//    iPXE would be sent iPXE again (the chainload loop);
//  - end to end: Kea in the boot lab answers a QEMU client, whose iPXE fetches boot.ipxe and its
//    own per-MAC script from nginx and boots the installer command line (BIOS: the NIC's iPXE ROM;
//    UEFI: OVMF PXE loads the loader over TFTP from a TFTP-only dnsmasq, as docs/deploy.md "Choosing a DHCP
//    form" says to run one).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { createNetns, withNetns, type Netns } from './helpers/netns.ts';
import { describe, run, startDaemon, waitFor, type Daemon } from './helpers/proc.ts';
import { dhcpdTest, keaTest, startDhcpd, startKea } from './helpers/kea.ts';
import { buildFixtureTrees, SITE_SOURCES, type SiteKey, type SiteTree } from './helpers/tree.ts';
import { ensureKernel, buildInitramfs, REPO_ROOT } from './helpers/initramfs.ts';
import { withLab } from './helpers/lab.ts';
import { bootVm, cleanSerial, lazyBoots } from './helpers/qemu.ts';
import { tempDir } from '../helpers/tmp.ts';

type Server = 'kea' | 'isc';
const FILE: Record<Server, string> = { kea: 'kea/harvgen.json', isc: 'dhcpd/harvgen.conf' };
const KEYS = Object.keys(SITE_SOURCES) as SiteKey[];

/** The real-program test sites with `dhcp.server` set, built once per server. */
const variants: Partial<Record<Server, Promise<Record<SiteKey, SiteTree>>>> = {};
function sitesFor(server: Server): Promise<Record<SiteKey, SiteTree>> {
  variants[server] ??= (async () => {
    const root = path.join(tempDir(`dhcp-${server}`), 'sites');
    const sources = {} as Record<SiteKey, string>;
    for (const k of KEYS) {
      const dir = path.join(root, path.basename(SITE_SOURCES[k]));
      await cp(SITE_SOURCES[k], dir, { recursive: true });
      const yaml = await readFile(path.join(dir, 'site.yaml'), 'utf8');
      if (/^dhcp:/m.test(yaml)) throw new Error(`${k} already has a dhcp: section`);
      await writeFile(path.join(dir, 'site.yaml'), `${yaml.trimEnd()}\ndhcp:\n  server: ${server}\n`);
      sources[k] = dir;
    }
    return buildFixtureTrees(`dhcp-${server}`, sources);
  })();
  return variants[server];
}

/** The golden fixtures: every class of the split (BIOS, UEFI, HTTP boot, arm64), two MACs on one address, the VIP. */
let golden: Promise<Record<Server, SiteTree>> | undefined;
function goldenSites(): Promise<Record<Server, SiteTree>> {
  golden ??= buildFixtureTrees('dhcp-golden', {
    kea: path.join(REPO_ROOT, 'test/fixtures/build/dhcp-kea/site'),
    isc: path.join(REPO_ROOT, 'test/fixtures/build/dhcp-isc/site'),
  });
  return golden;
}

/** Run `check` on the generated file (or a copy changed by `mutate`). */
async function checkFile(server: Server, tree: SiteTree, mutate?: (text: string) => string): Promise<{ code: number | null; log: string }> {
  const work = tempDir(`dhcp-check-${server}`);
  let file = path.join(tree.dir, FILE[server]);
  if (mutate) {
    const text = await readFile(file, 'utf8');
    const broken = mutate(text);
    if (broken === text) throw new Error(`the mutation did not apply to ${tree.label} ${FILE[server]}`);
    file = path.join(work, path.basename(file));
    await writeFile(file, broken);
  }
  const r = server === 'kea' ? await withNetns('keat', (ns) => keaTest(ns, file, work)) : await dhcpdTest(file);
  return { code: r.code, log: describe(r) };
}

function present(server: Server): boolean {
  return (server === 'kea' ? requireProgram('kea-dhcp4', 'ip') : requireProgram('dhcpd')) && requireRoot();
}

const MUTATIONS: Record<Server, [string, (t: string) => string][]> = {
  kea: [
    ['a comma dropped', (t) => t.replace(/,\n(\s+)"subnet":/, '\n$1"subnet":')],
    ['a class test that is no expression', (t) => t.replace("option[77].hex == 'iPXE'", "option[77].hex = 'iPXE'")],
    ['a reservation outside its subnet', (t) => t.replace(/"ip-address": "(\d+)\.(\d+)\./, '"ip-address": "203.0.')],
  ],
  isc: [
    ['a semicolon dropped', (t) => t.replace(/(filename "[^"]+");/, '$1')],
    ['an unknown option in the split', (t) => t.replace('option pxe-system-type', 'option pxe-system-typo')],
    ['a range outside its subnet', (t) => t.replace(/range (\d+)\.(\d+)\./, 'range 203.0.')],
  ],
};

/** The golden fixture without a pool (no network.dhcp_range), built with `dhcp.server` set to `server` (one build each: one boot server). */
const poolless: Partial<Record<Server, Promise<SiteTree>>> = {};
function poollessSite(server: Server): Promise<SiteTree> {
  poolless[server] ??= (async () => {
    const dir = path.join(tempDir(`dhcp-no-pool-${server}`), 'no-pool');
    await cp(path.join(REPO_ROOT, 'test/fixtures/build/no-pool/site'), dir, { recursive: true });
    const yaml = await readFile(path.join(dir, 'site.yaml'), 'utf8');
    await writeFile(path.join(dir, 'site.yaml'), `${yaml.trimEnd()}\ndhcp:\n  server: ${server}\n`);
    return (await buildFixtureTrees(`dhcp-no-pool-${server}`, { site: dir })).site;
  })();
  return poolless[server];
}

for (const server of ['kea', 'isc'] as const) {
  const program = server === 'kea' ? 'kea-dhcp4 -t' : 'dhcpd -t -cf';
  test(`${program} accepts a network without a pool (reservations only): no pool in the file`, async () => {
    if (!present(server)) return;
    const tree = await poollessSite(server);
    const text = await readFile(path.join(tree.dir, FILE[server]), 'utf8');
    assert.not.match(text, server === 'kea' ? /"pools"/ : /^\s*range /m);
    assert.match(text, server === 'kea' ? /"ip-address": "10\.40\.0\.11"/ : /fixed-address 10\.40\.0\.11;/);
    const r = await checkFile(server, tree);
    assert.is(r.code, 0, `${program} rejected ${tree.label}:\n${r.log}`);
  });
  for (const key of KEYS) {
    test(`${program} accepts ${FILE[server]} of ${key} (dhcp.server: ${server}) as generated`, async () => {
      if (!present(server)) return;
      const tree = (await sitesFor(server))[key];
      const r = await checkFile(server, tree);
      assert.is(r.code, 0, `${program} rejected ${tree.label}:\n${r.log}`);
    });
  }
  test(`${program} accepts the golden fixture with every class of the split`, async () => {
    if (!present(server)) return;
    const r = await checkFile(server, (await goldenSites())[server]);
    assert.is(r.code, 0, r.log);
  });
  for (const [what, mutate] of MUTATIONS[server]) {
    test(`mutation: ${program} refuses ${FILE[server]} with ${what}`, async () => {
      if (!present(server)) return;
      const r = await checkFile(server, (await sitesFor(server)).location_x, mutate);
      assert.is.not(r.code, 0, `${program} accepted a broken file (${what}):\n${r.log}`);
    });
  }
}

test('hostile values that validation lets through (quotes, backslashes) stay one value for kea-dhcp4 and dhcpd', async () => {
  if (!present('kea') || !present('isc')) return;
  // A domain may not hold them; a forged file stands in for a value that slipped past validation.
  for (const server of ['kea', 'isc'] as const) {
    const tree = (await sitesFor(server)).location_x;
    const evil = server === 'kea' ? 'x\\", \\"next-server\\": \\"6.6.6.6' : 'x\\"; filename \\"evil';
    const r = await checkFile(server, tree, (t) =>
      server === 'kea'
        ? t.replace('"hostname": "hv-1"', `"hostname": "${evil}"`)
        : t.replace('option host-name "hv-1";', `option host-name "${evil}";`),
    );
    assert.is(r.code, 0, `${server}: an escaped quote must stay inside its string:\n${r.log}`);
  }
});

// --- DHCP exchanges: the server in one namespace, busybox udhcpc in another, a veth between. ---

interface Lease {
  ip?: string;
  boot_file?: string;
  siaddr?: string;
  router?: string;
  dns?: string;
  hostname?: string;
  vendor?: string;
}

/** How the imitated client asks. */
interface Ask {
  userClass?: string;
  arch?: number;
  vendorClass?: string;
}

const SCRIPT = `#!/bin/sh
[ "$1" = bound ] || exit 0
for v in ip boot_file siaddr router dns hostname vendor; do eval "echo HGLEASE $v=\\"\\$$v\\""; done
exit 0
`;

interface Pair {
  server: Netns;
  client: Netns;
  ask(mac: string, a: Ask): Promise<{ lease?: Lease; log: string }>;
}

/** A server/client namespace pair; `start` runs the DHCP server on `hgds0`. Always torn down. */
async function withPair<T>(
  tree: SiteTree,
  start: (ns: Netns, iface: string, work: string) => Promise<Daemon>,
  fn: (p: Pair, d: Daemon) => Promise<T>,
): Promise<T> {
  const work = tempDir(`dhcp-pair-${tree.site}`);
  const server = await createNetns('dfs');
  let client: Netns | undefined;
  let daemon: Daemon | undefined;
  try {
    client = await createNetns('dfc');
    const net = tree.input.network as { cidr: string; gateway: string };
    const prefix = net.cidr.split('/')[1]!;
    const address = new URL(tree.manifest.boot.server).hostname;
    await server.sh(['ip', 'link', 'add', 'hgds0', 'type', 'veth', 'peer', 'name', 'hgdc0', 'netns', client.name]);
    await server.sh(['ip', 'addr', 'add', `${address}/${prefix}`, 'dev', 'hgds0']);
    await server.sh(['ip', 'link', 'set', 'hgds0', 'up']);
    await client.sh(['ip', 'link', 'set', 'hgdc0', 'up']);
    daemon = await start(server, 'hgds0', work);
    const script = path.join(work, 'udhcpc.sh');
    await writeFile(script, SCRIPT, { mode: 0o755 });
    const c = client;
    const pair: Pair = {
      server,
      client: c,
      async ask(mac, a) {
        await c.sh(['ip', 'link', 'set', 'hgdc0', 'down']);
        await c.sh(['ip', 'link', 'set', 'hgdc0', 'address', mac]);
        await c.sh(['ip', 'link', 'set', 'hgdc0', 'up']);
        const opts = ['-O', 'vendor'];
        if (a.userClass) opts.push('-x', `0x4d:${Buffer.from(a.userClass).toString('hex')}`);
        if (a.arch !== undefined) opts.push('-x', `0x5d:${a.arch.toString(16).padStart(4, '0')}`);
        if (a.vendorClass) opts.push('-V', a.vendorClass);
        // -R: release on exit, so the next MAC of a node may take its address at once.
        const r = await run(
          c.exec(['busybox', 'udhcpc', '-i', 'hgdc0', '-f', '-q', '-n', '-R', '-t', '5', '-T', '2', '-s', script, ...opts]),
          {
            timeoutMs: 30_000,
          },
        );
        const vars = Object.fromEntries([...r.stdout.matchAll(/^HGLEASE (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()])) as Lease;
        return { lease: vars.ip ? vars : undefined, log: describe(r) };
      },
    };
    return await fn(pair, daemon);
  } finally {
    await daemon?.stop();
    await client?.delete();
    await server.delete();
  }
}

/** What each kind of client of the golden fixture must get (its network is 10.30/10.31.0.0/24). */
function expectations(tree: SiteTree): { who: string; mac: string; ask: Ask; want: Partial<Lease>; pool?: boolean }[] {
  const n = tree.site === 'dhcp-kea' ? '10.30.0' : '10.31.0';
  const m = tree.site === 'dhcp-kea' ? '30' : '31';
  const server = `http://${n}.5`;
  return [
    {
      who: 'k1 (1st MAC) as iPXE',
      mac: `52:54:00:${m}:00:01`,
      ask: { userClass: 'iPXE', arch: 7 },
      want: { ip: `${n}.11`, boot_file: `${server}/boot.ipxe`, hostname: 'k1' },
    },
    // dhcpd gives a fixed address to every host declaration that has it; Kea leases a reserved
    // address to one MAC at a time: the node's other NIC gets it once the first NIC's lease is gone.
    {
      who: 'k1 (2nd MAC) as BIOS PXE',
      mac: `52:54:00:${m}:00:02`,
      ask: { arch: 0 },
      want: { ...(tree.site === 'dhcp-isc' ? { ip: `${n}.11` } : {}), boot_file: 'undionly.kpxe', siaddr: `${n}.6` },
      pool: tree.site === 'dhcp-kea',
    },
    {
      who: 'k2 (no address) as x86-64 UEFI PXE',
      mac: `52:54:00:${m}:00:03`,
      ask: { arch: 7 },
      want: { boot_file: 'snponly.efi', siaddr: `${n}.6` },
      pool: true,
    },
    { who: 'k3 as arm64 UEFI PXE', mac: `52:54:00:${m}:00:04`, ask: { arch: 11 }, want: { ip: `${n}.13`, boot_file: 'ipxe-arm64.efi' } },
    {
      who: 'an unknown MAC as UEFI HTTP boot',
      mac: '52:54:00:ff:ee:01',
      ask: { arch: 16, vendorClass: 'HTTPClient:Arch:00016:UNDI:003001' },
      want: { boot_file: `${server}/snponly.efi`, vendor: 'HTTPClient' },
      pool: true,
    },
    {
      who: 'an unknown MAC as arm64 UEFI HTTP boot',
      mac: '52:54:00:ff:ee:02',
      ask: { arch: 19, vendorClass: 'HTTPClient:Arch:00019:UNDI:003001' },
      want: { boot_file: `${server}/ipxe-arm64.efi`, vendor: 'HTTPClient' },
      pool: true,
    },
    {
      who: 'an unknown MAC as x86-64 UEFI PXE',
      mac: '52:54:00:ff:ee:03',
      ask: { arch: 9 },
      want: { boot_file: 'snponly.efi' },
      pool: true,
    },
    { who: 'the VIP MAC', mac: `02:00:00:${m}:00:0a`, ask: {}, want: { ip: `${n}.10` } },
  ];
}

async function exchangeProblems(tree: SiteTree, pair: Pair): Promise<string[]> {
  const n = tree.site === 'dhcp-kea' ? '10.30.0' : '10.31.0';
  const problems: string[] = [];
  for (const e of expectations(tree)) {
    const { lease, log } = await pair.ask(e.mac, e.ask);
    if (!lease) {
      problems.push(`${e.who}: no lease\n${log}`);
      continue;
    }
    for (const [k, v] of Object.entries(e.want)) {
      const got = lease[k as keyof Lease] ?? '';
      if (got !== v) problems.push(`${e.who}: ${k} "${got}", expected "${v}"`);
    }
    if (e.pool && !/^10\.3[01]\.0\.1\d\d$/.test(lease.ip ?? '')) problems.push(`${e.who}: ${lease.ip} is not a pool address`);
    if (lease.router !== `${n}.1`) problems.push(`${e.who}: router "${lease.router}"`);
    if (lease.dns !== `${n}.53 ${n}.54`) problems.push(`${e.who}: dns "${lease.dns}"`);
  }
  return problems;
}

const starters: Record<Server, (tree: SiteTree) => (ns: Netns, iface: string, work: string) => Promise<Daemon>> = {
  kea: (tree) => (ns, iface, work) => startKea(ns, path.join(tree.dir, FILE.kea), work, { iface }),
  isc: (tree) => (ns, iface, work) => startDhcpd(ns, path.join(tree.dir, FILE.isc), work, iface),
};

for (const server of ['kea', 'isc'] as const) {
  const name = server === 'kea' ? 'Kea' : 'ISC dhcpd';
  test(`${name} running the generated config answers iPXE, BIOS, UEFI, arm64 and HTTP boot clients and the VIP as the inventory says`, async () => {
    if (!present(server) || !requireProgram('/bin/busybox')) return;
    const tree = (await goldenSites())[server];
    const t0 = Date.now();
    await withPair(tree, starters[server](tree), async (pair, d) => {
      const p = await exchangeProblems(tree, pair);
      assert.equal(
        p,
        [],
        `${name}:\n  ${p.join('\n  ')}\n--- ${name} log (last 80 lines) ---\n${d.output().split('\n').slice(-80).join('\n')}`,
      );
    });
    console.log(`  ${name} exchanges: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
}

test('mutation: Kea without the required classes sends iPXE no boot file (the split is what answers it)', async () => {
  if (!present('kea') || !requireProgram('/bin/busybox')) return;
  const tree = (await goldenSites()).kea;
  const start = (ns: Netns, iface: string, work: string) =>
    startKea(ns, path.join(tree.dir, FILE.kea), work, {
      iface,
      change: (d) => void ((d.subnet4 as Record<string, unknown>[])[0]!['require-client-classes'] = []),
    });
  await withPair(tree, start, async (pair) => {
    const { lease, log } = await pair.ask('52:54:00:30:00:01', { userClass: 'iPXE' });
    assert.ok(lease, `no lease at all:\n${log}`);
    assert.is.not(lease.boot_file, 'http://10.30.0.5/boot.ipxe', 'the boot file came from somewhere else than the split');
  });
});

/** The golden fixtures with `nginx.file_key`: each known MAC's script has a keyed name. */
let keyed: Promise<Record<Server, SiteTree>> | undefined;
function keyedSites(): Promise<Record<Server, SiteTree>> {
  keyed ??= (async () => {
    const root = path.join(tempDir('dhcp-keyed'), 'sites');
    const sources = {} as Record<Server, string>;
    for (const server of ['kea', 'isc'] as const) {
      const dir = path.join(root, `dhcp-${server}`);
      await cp(path.join(REPO_ROOT, `test/fixtures/build/dhcp-${server}/site`), dir, { recursive: true });
      const yaml = await readFile(path.join(dir, 'site.yaml'), 'utf8');
      if (/^nginx:/m.test(yaml)) throw new Error(`dhcp-${server} already has an nginx: section`);
      await writeFile(path.join(dir, 'site.yaml'), `${yaml.trimEnd()}\nnginx:\n  file_key: ${'0123456789abcdef'.repeat(4)}\n`);
      sources[server] = dir;
    }
    return buildFixtureTrees('dhcp-keyed', sources);
  })();
  return keyed;
}

for (const server of ['kea', 'isc'] as const) {
  const name = server === 'kea' ? 'Kea' : 'ISC dhcpd';
  test(`${name} with nginx.file_key sends iPXE on each known MAC its own keyed script, other iPXE boot.ipxe, firmware PXE still iPXE`, async () => {
    if (!present(server) || !requireProgram('/bin/busybox')) return;
    const tree = (await keyedSites())[server];
    const problems: string[] = [];
    await withPair(tree, starters[server](tree), async (pair, d) => {
      for (const node of tree.manifest.nodes) {
        for (const s of node.ipxe) {
          if (!/-[0-9a-f]{32}\.ipxe$/.test(s.url)) problems.push(`${s.mac}: the manifest names no keyed script (${s.url})`);
          const { lease, log } = await pair.ask(s.mac, { userClass: 'iPXE' });
          if (lease?.boot_file !== s.url)
            problems.push(`${node.hostname} ${s.mac} as iPXE: "${lease?.boot_file}", expected ${s.url}\n${log}`);
        }
      }
      const first = tree.manifest.nodes[0]!.macs[0]!;
      const bios = await pair.ask(first, { arch: 0 });
      if (bios.lease?.boot_file !== 'undionly.kpxe')
        problems.push(`${first} as BIOS PXE: "${bios.lease?.boot_file}", expected undionly.kpxe`);
      const other = await pair.ask('52:54:00:ff:ee:09', { userClass: 'iPXE' });
      if (other.lease?.boot_file !== tree.manifest.boot.entry_url)
        problems.push(`an unknown MAC as iPXE: "${other.lease?.boot_file}", expected ${tree.manifest.boot.entry_url}`);
      assert.equal(
        problems,
        [],
        `${name}:\n  ${problems.join('\n  ')}\n--- log (last 60 lines) ---\n${d.output().split('\n').slice(-60).join('\n')}`,
      );
    });
  });
}

// --- End to end: Kea in the boot lab, a QEMU client, nginx serving the tree. ---

/** Hard limits per boot (dnsmasq's boot test measured BIOS ~11 s, UEFI ~22 s alone). */
const LIMIT_MS = { bios: 90_000, uefi: 150_000 } as const;

interface E2eCase {
  readonly id: string;
  readonly key: 'bios' | 'uefi';
  readonly hostname: string;
}
/** Longest first, so the two lanes finish together. */
const E2E: E2eCase[] = [
  { id: 'kea-uefi', key: 'uefi', hostname: 'hv-u2' },
  { id: 'kea-bios', key: 'bios', hostname: 'hv-b1' },
];

interface E2eOutcome {
  tree: SiteTree;
  mac: string;
  serial: string;
  access: string;
  keaLog: string;
  tftpLog: string;
  ms: number;
}

/** One boot: Kea (test copy) and a TFTP-only dnsmasq in the lab's namespace, nginx, QEMU. */
async function runE2e(c: E2eCase, tree: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<E2eOutcome> {
  const node = tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
  const out: E2eOutcome = { tree, mac: node.macs[0]!, serial: '', access: '', keaLog: '', tftpLog: '', ms: 0 };
  await withLab(
    tree,
    artifacts,
    async (lab) => {
      const kea = await startKea(lab.ns, path.join(tree.dir, FILE.kea), lab.workDir, { iface: lab.tap });
      lab.daemons.push(kea);
      // TFTP for firmware PXE as docs/deploy.md "Choosing a DHCP form" says to run it beside Kea: dnsmasq
      // with no DHCPv4 range (so no DHCP) and no DNS (port=0), serving the TFTP root. Test-only:
      // a router advertisement for the lab's ULA prefix ends iPXE's ~13 s wait for one (lab.ts).
      const tftp = startDaemon(
        'dnsmasq-tftp',
        lab.ns.exec([
          'dnsmasq',
          '--no-daemon',
          '--conf-file=/dev/null',
          '--port=0',
          '--enable-tftp',
          `--tftp-root=${path.join(lab.workDir, 'tftp')}`,
          `--interface=${lab.tap}`,
          '--bind-interfaces',
          '--enable-ra',
          `--dhcp-range=::,constructor:${lab.tap},ra-only`,
          '--log-facility=-',
        ]),
      );
      lab.daemons.push(tftp);
      await waitFor(() => tftp.exited() || /TFTP root is/.test(tftp.output()), 10_000);
      if (tftp.exited()) throw new Error(`TFTP-only dnsmasq did not start:\n${tftp.output()}`);
      const r = await bootVm({
        firmware: tree.manifest.boot.firmware,
        mac: out.mac,
        ns: lab.ns,
        tap: lab.tap,
        workDir: lab.workDir,
        timeoutMs: LIMIT_MS[tree.manifest.boot.firmware],
        stopWhen: (raw) => {
          const s = cleanSerial(raw);
          return ['Kernel panic', 'No bootable device', 'HARVGEN-ERROR', 'Shell> '].find((f) => s.includes(f));
        },
      });
      out.serial = cleanSerial(r.serial);
      out.ms = r.ms;
      out.access = await lab.accessLog();
      out.keaLog = kea.output();
      out.tftpLog = tftp.output();
    },
    { dnsmasq: false },
  );
  return out;
}

/** The two boots, started on first use, two at a time. */
const e2e = lazyBoots(
  E2E,
  async () => {
    const kernel = await ensureKernel();
    return { artifacts: { kernel: kernel.vmlinuz, initrd: await buildInitramfs(kernel) }, trees: await sitesFor('kea') };
  },
  (c, p) => runE2e(c, p.trees[c.key], p.artifacts),
);

/** Everything wrong with a boot; empty when the node booted its own script to the installer. */
function e2eProblems(c: E2eCase, o: E2eOutcome): string[] {
  const node = o.tree.manifest.nodes.find((n) => n.hostname === c.hostname)!;
  const problems: string[] = [];
  const script = node.ipxe.find((s) => s.mac === o.mac)!;
  const served = (url: string) => new RegExp(`"GET ${new URL(url).pathname.replace(/[.]/g, '\\.')} [^"]*" 200 `).test(o.access);
  if (!served(o.tree.manifest.boot.entry_url)) problems.push('nginx never served boot.ipxe');
  if (!served(script.url)) problems.push(`nginx never served the node's own script ${script.path}`);
  const cmdline = /^HARVGEN-CMDLINE: (.*)$/m.exec(o.serial)?.[1] ?? '';
  if (!cmdline.includes(`harvester.install.config_url=${node.config!.url}`))
    problems.push(`the installer command line is not the node's: "${cmdline}"`);
  if (!/^HARVGEN-FETCH-RC: 0$/m.test(o.serial)) problems.push('the guest did not fetch its config');
  if (node.ip && !new RegExp(`HARVGEN-IP:.*inet ${node.ip.replace(/\./g, '\\.')}/`).test(o.serial))
    problems.push(`the guest does not have its address ${node.ip}`);
  if (!/DHCP4_LEASE_ALLOC/.test(o.keaLog)) problems.push('Kea allocated no lease');
  if (c.key === 'uefi' && !/sent \S*snponly\.efi to/.test(o.tftpLog))
    problems.push('OVMF PXE never loaded snponly.efi over TFTP (the class by client architecture)');
  return problems;
}

for (const c of E2E) {
  const client = c.key === 'bios' ? "SeaBIOS and the NIC's iPXE ROM" : 'OVMF PXE, then iPXE over TFTP';
  test(`end to end (${c.key}): Kea answers a QEMU client (${client}), which boots its own per-MAC script from nginx`, async () => {
    if (!present('kea') || !requireProgram('qemu-system-x86_64', 'nginx', 'dnsmasq', 'cpio', '/bin/busybox')) return;
    const o = await e2e(c.id);
    console.log(`  boot ${c.id}: ${(o.ms / 1000).toFixed(1)} s`);
    const report = [
      `--- serial (last 120 lines) ---\n${o.serial.split('\n').slice(-120).join('\n')}`,
      `--- nginx ---\n${o.access}`,
      `--- kea (last 60 lines) ---\n${o.keaLog.split('\n').slice(-60).join('\n')}`,
      `--- tftp ---\n${o.tftpLog}`,
    ].join('\n');
    const p = e2eProblems(c, o);
    assert.equal(p, [], `${c.id}:\n  ${p.join('\n  ')}\n${report}`);
  });
}

test.run();
