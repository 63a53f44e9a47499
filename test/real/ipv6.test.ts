// IPv6 netboot, run for real: a network namespace whose segment has no IPv4 at all, the generated
// dnsmasq (DHCPv6, router advertisements, TFTP) and nginx (listening on the boot server's IPv6
// address, per-node `allow`) as they are generated, and a generic OS node booting in QEMU:
//
//   UEFI: OVMF (IPv4 off) PXE over IPv6 -> DHCPv6 bootfile-url tftp://[server]/snponly.efi ->
//         iPXE: router advertisement, DHCPv6 (user class iPXE) -> http://[server]/boot.ipxe ->
//         node script -> kernel + initrd -> /init fetches the node's NoCloud seed
//   BIOS: SeaBIOS -> the NIC's iPXE ROM (Debian builds it with IPv6) -> the same from DHCPv6 on
//
// The node's DHCPv6 reservation (its ip6, in its dnsmasq host file) is what iPXE fetches from
// (nginx's log), the seed is served to that address and refused (403) to another address of the
// segment. A mutation (the reservation dropped from the host file) gives iPXE a pool address
// instead, which the check notices. The config checks run the real programs on every generated
// IPv6 file: `dnsmasq --test`, `kea-dhcp6 -t` (with a mutation Kea's own parser refuses) and
// `nginx -t` (which binds: in a namespace holding the addresses).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { appendFile, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findProgram, requireProgram, requireRoot } from './helpers/programs.ts';
import { ensureKernel, buildInitramfs, REPO_ROOT } from './helpers/initramfs.ts';
import { createNetns, withNetns, type Netns } from './helpers/netns.ts';
import { dnsmasqTestTree, startDnsmasq, writeTestableConf } from './helpers/dnsmasq.ts';
import { prepareNginx, startNginx, nginxTest, readAccessLogs, nginxFailure } from './helpers/nginx.ts';
import { keaTest } from './helpers/kea.ts';
import { bootVm, cleanSerial, lazyBoots, type BootResult } from './helpers/qemu.ts';
import { buildFixtureTrees, copyTree, type SiteTree } from './helpers/tree.ts';
import { requests } from './helpers/boot-log.ts';
import { IPXE_DIR } from './helpers/lab.ts';
import { describe, run, type Daemon } from './helpers/proc.ts';
import { tempDir } from '../helpers/tmp.ts';
import { parseIpv6Lenient, reservation6 } from '../../src/util/ipv6.ts';

const FIXTURES = {
  real: path.join(REPO_ROOT, 'test/fixtures/real/ipv6'),
  dual: path.join(REPO_ROOT, 'test/fixtures/build/dual-stack/site'),
  kea: path.join(REPO_ROOT, 'test/fixtures/build/ipv6-kea/site'),
} as const;

/** The boot server's address in the fixture, and another address of the segment (the 403 probe). */
const SERVER = 'fd00:6::1';
const STRANGER = 'fd00:6::99';
const LIMIT_MS = { bios: 150_000, uefi: 240_000 } as const;

const BOOT_PROGRAMS = ['ip', 'dnsmasq', 'nginx', 'qemu-system-x86_64', 'curl', 'socat', '/bin/busybox', 'cpio'];
const UEFI_FILES = ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/lib/ipxe/snponly.efi'];
const BIOS_FILES = ['/usr/lib/ipxe/qemu/efi-virtio.rom'];

let trees: Promise<Record<keyof typeof FIXTURES, SiteTree>> | undefined;
const getTrees = () => (trees ??= buildFixtureTrees('ipv6', FIXTURES));

// ---- the generated files, checked by the programs that read them ----

test('dnsmasq --test accepts the IPv6-only and the dual-stack dnsmasq files (DHCPv6 range, RA, option6 boot URLs, [ip6] reservations)', async () => {
  if (!requireProgram('dnsmasq')) return;
  const t = await getTrees();
  for (const tree of [t.real, t.dual]) {
    const r = await dnsmasqTestTree(tree.dir, tempDir('v6-dnsmasq'));
    assert.is(r.code, 0, `${tree.label}\n${describe(r)}`);
    const conf = await readFile(path.join(tree.dir, 'dnsmasq/harvgen.conf'), 'utf8');
    assert.match(conf, /^enable-ra$/m);
    assert.match(conf, /^dhcp-range=set:harvgen-[a-z0-9_-]+,fd00:[0-9a-f:]+,fd00:[0-9a-f:]+,64,12h$/m);
  }
  // Each reservation file as a dhcp-host line: dnsmasq reads both address families from it.
  const hosts = await readFile(path.join(t.dual.dir, 'dnsmasq/hosts/dual-stack.jump'), 'utf8');
  const line = hosts.split('\n').find((l) => l && !l.startsWith('#'))!;
  const file = path.join(tempDir('v6-host'), 'host.conf');
  await writeFile(file, `dhcp-host=${line}\n`);
  const r = await run(['dnsmasq', '--test', `--conf-file=${file}`], { timeoutMs: 10_000 });
  assert.is(r.code, 0, describe(r));
});

test('kea-dhcp6 -t accepts kea/harvgen6.json; the same file with the HTTP boot vendor class written as text is refused by Kea', async () => {
  if (!requireProgram('kea-dhcp6') || !requireProgram('ip') || !requireRoot()) return;
  const t = await getTrees();
  const generated = await readFile(path.join(t.kea.dir, 'kea/harvgen6.json'), 'utf8');
  const work = tempDir('v6-kea');
  const good = path.join(work, 'harvgen6.json');
  await writeFile(good, generated);
  // Kea's option 16 is an enterprise number and length-prefixed data (std_option_defs.h): "HTTPClient"
  // as plain text is not binary data, so the parser refuses it: the check reads what Kea reads.
  const broken = path.join(work, 'broken6.json');
  const mutated = generated.replace('"343, 000a48545450436c69656e74"', '"343, HTTPClient"');
  assert.is.not(mutated, generated, 'the mutation did not apply');
  await writeFile(broken, mutated);
  // Both in one namespace: the links the config names are made once (a second `ip link add` of them is skipped).
  const [ok, bad] = await withNetns('kea6', async (ns) => [
    await keaTest(ns, good, work, 'kea-dhcp6'),
    await keaTest(ns, broken, work, 'kea-dhcp6'),
  ]);
  assert.is(ok.code, 0, describe(ok));
  assert.is.not(bad.code, 0, `kea-dhcp6 accepted the mutated vendor-class\n${describe(bad)}`);
  assert.match(`${bad.stdout}${bad.stderr}`, /HTTPClient/);
  // No DHCPv4 file on an IPv6-only network.
  assert.not.ok(t.kea.manifest.files.some((f) => f.path === 'kea/harvgen.json'));
});

test('nginx -t accepts the IPv6 server blocks (listen on the IPv6 address, IPv6 allow lines) where those addresses exist', async () => {
  if (!requireProgram('nginx') || !requireProgram('ip') || !requireRoot()) return;
  const t = await getTrees();
  const ns = await createNetns('nginx6');
  try {
    await ns.sh(['ip', 'link', 'add', 'hgv6a', 'type', 'veth', 'peer', 'name', 'hgv6b']);
    for (const a of ['fd00:6::1/64', 'fd00:40::5/64', 'fd00:50::5/64'])
      await ns.sh(['ip', '-6', 'addr', 'add', a, 'dev', 'hgv6a', 'nodad']);
    await ns.sh(['ip', 'addr', 'add', '10.40.0.5/24', 'dev', 'hgv6a']);
    await ns.sh(['ip', 'link', 'set', 'hgv6a', 'up']);
    for (const tree of [t.real, t.dual, t.kea]) {
      const snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
      assert.match(snippet, /^ {4}listen \[fd00:[0-9a-f:]+\]:\d+;$/m, `${tree.label}: no IPv6 listen`);
      const setup = await prepareNginx({
        prefix: path.join(tempDir('v6-nginx'), 'p'),
        snippet,
        rewrite: { treeDir: tree.dir, artifactsDir: tree.dir },
      });
      const r = await nginxTest(setup, ns);
      assert.is(r.code, 0, `${tree.label}\n${await nginxFailure(setup, r)}`);
    }
  } finally {
    await ns.delete();
  }
});

// ---- boots ----

interface Case {
  id: string;
  firmware: 'bios' | 'uefi';
  hostname: string;
  title: string;
  /**
   * `no-reservation`: drop the node's ip6 from its dnsmasq host file (the DHCPv6 reservation);
   * `no-ra`: drop `enable-ra` from the tree's dnsmasq file (no router advertisement on the segment).
   */
  mutation?: 'no-reservation' | 'no-ra';
}

const CASES: Case[] = [
  {
    id: 'uefi',
    firmware: 'uefi',
    hostname: 'v6-uefi',
    title:
      'UEFI, IPv6 only: OVMF PXE over IPv6 gets snponly.efi by TFTP, iPXE gets boot.ipxe by DHCPv6 from its reserved ip6, and the node fetches its NoCloud seed, which nginx refuses to another address (403)',
  },
  {
    id: 'bios',
    firmware: 'bios',
    hostname: 'v6-bios',
    title: "BIOS, IPv6 only: the NIC's iPXE ROM boots over DHCPv6 from its reserved ip6 and the node fetches its NoCloud seed",
  },
  {
    id: 'bios-no-reservation',
    firmware: 'bios',
    hostname: 'v6-bios',
    mutation: 'no-reservation',
    title: "mutation: without the node's ip6 in its dnsmasq host file, iPXE boots from a pool address and the reservation check notices",
  },
  {
    id: 'bios-no-ra',
    firmware: 'bios',
    hostname: 'v6-bios',
    mutation: 'no-ra',
    title:
      'mutation: without the router advertisements of the generated dnsmasq (enable-ra), iPXE asks DHCPv6 nothing and never loads its script',
  },
];

interface Outcome {
  tree: SiteTree;
  mac: string;
  ip6: string;
  result?: BootResult;
  access: string;
  dnsmasq: string;
  /** curl of the node's user-data from the stranger address: the HTTP status. */
  strangerStatus?: string;
  error?: unknown;
}

function neededFiles(c: Case): string[] {
  return [...BOOT_PROGRAMS, ...(c.firmware === 'uefi' ? UEFI_FILES : BIOS_FILES)];
}

const outcome = lazyBoots(
  CASES.filter((c) => neededFiles(c).every((p) => findProgram(p))),
  async () => {
    const kernel = await ensureKernel();
    return { kernel: kernel.vmlinuz, initrd: await buildInitramfs(kernel), trees: await getTrees() };
  },
  (c, { kernel, initrd, trees: t }) => runCase(c, t.real, { kernel, initrd }),
);

/** The node's MAC and ip6, from site.yaml. */
function nodeOf(tree: SiteTree, hostname: string): { mac: string; ip6: string } {
  const nodes = (tree.input as unknown as { nodes: { hostname: string; mac: string; ip6: string }[] }).nodes;
  const n = nodes.find((x) => x.hostname === hostname);
  if (!n) throw new Error(`${tree.label}: no node ${hostname}`);
  return { mac: n.mac, ip6: n.ip6 };
}

async function runCase(c: Case, base: SiteTree, artifacts: { kernel: string; initrd: string }): Promise<Outcome> {
  const { mac, ip6 } = nodeOf(base, c.hostname);
  let tree = base;
  if (c.mutation === 'no-reservation') {
    tree = await copyTree(base, c.mutation);
    const file = path.join(tree.dir, `dnsmasq/hosts/${tree.site}.${c.hostname}`);
    const text = await readFile(file, 'utf8');
    const broken = text.replace(`,[${reservation6(ip6)!.cidr}]`, '');
    if (broken === text) throw new Error(`mutation ${c.mutation} did not apply to ${file}`);
    await writeFile(file, broken);
  }
  if (c.mutation === 'no-ra') {
    tree = await copyTree(base, c.mutation);
    const file = path.join(tree.dir, 'dnsmasq/harvgen.conf');
    const text = await readFile(file, 'utf8');
    const broken = text.replace(/^enable-ra\n/m, '');
    if (broken === text) throw new Error(`mutation ${c.mutation} did not apply to ${file}`);
    await writeFile(file, broken);
  }
  const out: Outcome = { tree, mac, ip6, access: '', dnsmasq: '' };
  const work = tempDir(`v6-${c.id}`);
  const tap = 'hgtap0';
  let ns: Netns | undefined;
  const daemons: Daemon[] = [];
  try {
    ns = await createNetns(`v6${c.id.replace(/-/g, '')}`.slice(0, 12));
    // The segment: the boot server's IPv6 address and a second one (the stranger); no IPv4.
    await ns.sh(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    await ns.sh(['ip', '-6', 'addr', 'add', `${SERVER}/64`, 'dev', tap, 'nodad']);
    await ns.sh(['ip', '-6', 'addr', 'add', `${STRANGER}/64`, 'dev', tap, 'nodad']);
    await ns.sh(['ip', 'link', 'set', tap, 'up']);
    const tftpRoot = path.join(work, 'tftp');
    await mkdir(tftpRoot);
    for (const f of ['snponly.efi', 'ipxe.efi']) await copyFile(path.join(IPXE_DIR, f), path.join(tftpRoot, f));
    const conf = await writeTestableConf(tree.dir, path.join(work, 'dnsmasq.conf'), {
      iface: tap,
      tftpRoot,
      leaseFile: path.join(work, 'leases'),
    });
    const dnsmasq = await startDnsmasq(ns, conf.path);
    daemons.push(dnsmasq);
    // nginx: the generated server block, and a test-only server on :8080 for the profile's kernel
    // and initrd (the stand-in OS: Debian's kernel, the test initramfs).
    const snippet = await readFile(path.join(tree.dir, 'nginx/harvgen.conf'), 'utf8');
    const setup = await prepareNginx({ prefix: path.join(work, 'nginx'), snippet, rewrite: { treeDir: tree.dir, artifactsDir: work } });
    const os = path.join(work, 'os');
    await mkdir(os);
    await copyFile(artifacts.kernel, path.join(os, 'vmlinuz'));
    await copyFile(artifacts.initrd, path.join(os, 'initrd.img'));
    await appendFile(
      setup.site,
      `\n# --- added by the test, not generated: the OS profile's kernel and initrd ---\nserver {\n    listen [${SERVER}]:8080;\n    location /os/ { alias ${os}/; }\n}\n`,
    );
    daemons.push(await startNginx(setup, { host: SERVER, port: 80 }, ns));
    out.result = await bootVm({
      firmware: c.firmware,
      mac,
      ns,
      tap,
      workDir: work,
      timeoutMs: LIMIT_MS[c.firmware],
      // UEFI: no IPv4 in the firmware at all (its PXE over IPv6 is then the first boot option).
      ...(c.firmware === 'uefi' ? { ovmf: { IPv4Support: 'n' } } : {}),
      stopWhen: stopper,
    });
    // After the boot: the node's seed fetched from another address of the segment.
    const seed = `http://[${SERVER}]/cloud-init/${mac.replace(/:/g, '-')}/user-data`;
    const probe = await run(
      ns.exec(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--interface', STRANGER, '--max-time', '10', seed]),
      {
        timeoutMs: 20_000,
      },
    );
    out.strangerStatus = probe.stdout.trim();
    out.access = await readAccessLogs(setup);
    out.dnsmasq = dnsmasq.output();
    await writeFile(path.join(work, 'access.log'), out.access);
    await writeFile(path.join(work, 'dnsmasq.log'), out.dnsmasq);
  } catch (err) {
    out.error = err;
  } finally {
    for (const d of [...daemons].reverse()) await d.stop();
    await ns?.delete();
  }
  return out;
}

const FATAL = ['Kernel panic', 'No bootable device', 'Shell> ', 'HARVGEN-ERROR', 'giving up on', 'could not load'];

function stopper(raw: string): string | undefined {
  const s = cleanSerial(raw);
  for (const f of FATAL) if (s.includes(f)) return f;
  return undefined;
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Everything wrong with one boot; empty when it went as the case says. */
async function problems(c: Case, o: Outcome): Promise<string[]> {
  if (o.error) return [`lab failed: ${o.error instanceof Error ? o.error.message : String(o.error)}`];
  const r = o.result;
  if (!r) return ['no boot result'];
  const p: string[] = [];
  if (r.timedOut) p.push(`timed out after ${r.ms} ms`);
  if (r.stoppedBecause) p.push(`stopped early: "${r.stoppedBecause}" on the serial console`);
  const s = cleanSerial(r.serial);
  const reqs = requests(o.access);
  const hyphen = o.mac.replace(/:/g, '-');
  const script = reqs.find((q) => q.path === `/ipxe/${hyphen}.ipxe`);
  if (!script) p.push(`iPXE never fetched /ipxe/${hyphen}.ipxe`);
  // The address iPXE fetched its script from: the node's reservation, or (mutation) a pool address.
  const pool = (ip: string) => /^fd00:6::1[0-9a-f]{3}$/.test(ip);
  // The node's reservation: the /126 block around its ip6 (one address per boot stage).
  const block = reservation6(o.ip6)!;
  const reserved = (ip: string) => {
    const v = parseIpv6Lenient(ip);
    return v !== undefined && v >= block.first && v <= block.last;
  };
  if (script && !c.mutation && !reserved(script.ip))
    p.push(`iPXE fetched its script from ${script.ip}, not from the node's reservation ${block.cidr}`);
  if (script && c.mutation && !pool(script.ip))
    p.push(`without the reservation iPXE fetched its script from ${script.ip}, not from a pool address`);
  if (c.firmware === 'uefi' && !/sent \S*snponly\.efi to fd00:6::/.test(o.dnsmasq))
    p.push('dnsmasq never sent snponly.efi over TFTP to an IPv6 client');
  if (!/DHCPREPLY\(hgtap0\)/.test(o.dnsmasq)) p.push('dnsmasq logged no DHCPv6 reply');
  // The NoCloud seed: fetched by the node from its ip6 (200), refused to the stranger (403).
  for (const f of ['meta-data', 'user-data', 'vendor-data']) {
    const got = reqs.find((q) => q.path === `/cloud-init/${hyphen}/${f}` && q.ip === o.ip6);
    if (!got) p.push(`the node never fetched ${f} from ${o.ip6}`);
    else if (got.status !== 200) p.push(`${f} was answered ${got.status} to the node`);
    const rc = new RegExp(`^HARVGEN-NOCLOUD-${f}-RC: (\\d+)$`, 'm').exec(s)?.[1];
    if (rc !== '0') p.push(`the guest's fetch of ${f} ended with ${rc ?? 'nothing'}`);
  }
  const userData = await readFile(path.join(o.tree.dir, `cloud-init/${hyphen}/user-data`));
  const gotSha = /^HARVGEN-NOCLOUD-user-data-SHA256: ([0-9a-f]{64})/m.exec(s)?.[1];
  if (gotSha !== sha256(userData)) p.push(`the guest's user-data has sha256 ${gotSha ?? '(none)'}, the tree's ${sha256(userData)}`);
  if (!new RegExp(`^HARVGEN-IP: .*inet6 ${o.ip6}/64`, 'm').test(s)) p.push(`the guest did not report its address ${o.ip6}`);
  if (o.strangerStatus !== '403') p.push(`the seed was answered ${o.strangerStatus ?? '(nothing)'} to ${STRANGER}, expected 403`);
  // No IPv4 anywhere: nginx saw only IPv6 clients.
  const v4 = reqs.filter((q) => q.ip.includes('.'));
  if (v4.length) p.push(`requests over IPv4 on an IPv6-only segment: ${v4.map((q) => q.ip).join(', ')}`);
  return p;
}

for (const c of CASES) {
  test(c.title, async () => {
    const files = neededFiles(c);
    for (const f of files) if (!requireProgram(f)) return;
    if (!requireRoot()) return;
    const o = await outcome(c.id);
    const p = await problems(c, o);
    const report = () =>
      [
        ...p.map((x) => `- ${x}`),
        '--- serial (tail) ---',
        cleanSerial(o.result?.serial ?? '').slice(-4000),
        '--- nginx access ---',
        o.access.slice(-3000),
        '--- dnsmasq (tail) ---',
        o.dnsmasq.slice(-3000),
      ].join('\n');
    if (c.mutation === 'no-ra') {
      // No advertisement, no DHCPv6 in iPXE: it fetches nothing at all, and the boot fails.
      const asNormal = await problems({ ...c, mutation: undefined }, o);
      assert.ok(asNormal.length > 0, 'the boot without router advertisements passed the normal check');
      assert.equal(
        requests(o.access).filter((q) => q.path.startsWith('/ipxe/') || q.path === '/boot.ipxe'),
        [],
        'iPXE fetched its scripts without a router advertisement',
      );
      assert.not.match(o.dnsmasq, /DHCPREPLY\(hgtap0\)/, 'dnsmasq answered DHCPv6 without a router advertisement');
      return;
    }
    if (c.mutation) {
      // The mutation must be noticed by the check the normal case relies on.
      const asNormal = await problems({ ...c, mutation: undefined }, o);
      assert.ok(
        asNormal.some((x) => x.startsWith('iPXE fetched its script from')),
        `the reservation check missed the mutation:\n${asNormal.join('\n')}`,
      );
    }
    assert.equal(p, [], report());
  });
}

test.run();
