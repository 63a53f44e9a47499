// Real dnsmasq against the generated dnsmasq files of every test site (global.conf, harvgen.conf
// and the reservation files of hosts/): `dnsmasq --test` on the files as generated, then the
// config running for real in a network namespace, answering busybox udhcpc clients that imitate
// iPXE and firmware PXE. `--test` does not read dhcp-hostsdir files: the real run does, and a
// line it cannot read is only logged, so the log is checked too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { requireProgram, requireRoot } from './helpers/programs.ts';
import { dnsmasqTest, dnsmasqTestTree } from './helpers/dnsmasq.ts';
import { describe } from './helpers/proc.ts';
import { withDhcpPair, inCidr, type DhcpPair, type Lease } from './helpers/dhcp.ts';
import { IPXE_DIR } from './helpers/lab.ts';
import { getTrees, copyTree, type SiteKey, type SiteTree, type ManifestNode } from './helpers/tree.ts';
import { BUILTIN_DEFAULTS } from '../../src/model/defaults.ts';
import { tempDir } from '../helpers/tmp.ts';

const SITES: SiteKey[] = ['location_x', 'location_y', 'bios', 'uefi'];
const UNKNOWN_MAC = '52:54:00:ff:ee:dd';

for (const key of SITES) {
  test(`dnsmasq --test accepts the generated config of ${key} as is`, async () => {
    if (!requireProgram('dnsmasq')) return;
    const tree = (await getTrees())[key];
    const r = await dnsmasqTestTree(tree.dir, tempDir('dnsmasq-test'));
    assert.ok(r.code === 0 && /syntax check OK/.test(r.stdout + r.stderr), `dnsmasq rejected ${tree.label}:\n${describe(r)}`);
  });
}

function ipNum(ip: string): number {
  return ip.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}

/** What is wrong with the lease node/mac got when it asked as iPXE. */
function nodeLeaseProblems(tree: SiteTree, node: ManifestNode, mac: string, l: Lease | undefined, pair: DhcpPair): string[] {
  const who = `${node.hostname} ${mac} as iPXE`;
  if (!l) return [`${who}: no lease\n${pair.lastLog()}`];
  const net = tree.input.network as { cidr: string; gateway: string; dns: string[] };
  const problems: string[] = [];
  if (node.ip && l.ip !== node.ip) problems.push(`${who}: got ${l.ip}, expected its reservation ${node.ip}`);
  if (!node.ip && !inCidr(l.ip, net.cidr)) problems.push(`${who}: got ${l.ip}, outside ${net.cidr}`);
  if (l.hostname && l.hostname !== node.hostname) problems.push(`${who}: host name "${l.hostname}", expected ${node.hostname}`);
  if (l.boot_file !== tree.manifest.boot.entry_url)
    problems.push(`${who}: boot file "${l.boot_file}", expected ${tree.manifest.boot.entry_url}`);
  if (l.router.split(' ')[0] !== net.gateway) problems.push(`${who}: router "${l.router}", expected ${net.gateway}`);
  if (l.dns.split(' ').join(',') !== net.dns.join(',')) problems.push(`${who}: dns "${l.dns}", expected ${net.dns.join(' ')}`);
  return problems;
}

/**
 * Ask the running config for a lease as every node MAC (as iPXE), as firmware PXE (BIOS and
 * UEFI arch) and as an unknown MAC; return everything that differs from the inventory.
 */
async function dhcpProblems(tree: SiteTree, pair: DhcpPair): Promise<string[]> {
  const problems: string[] = [];
  // Every reservation file was read, and read without an error (dnsmasq only logs those).
  for (const node of tree.manifest.nodes) {
    if (!new RegExp(`read \\S*/${tree.site}\\.${node.hostname}$`, 'm').test(pair.dnsmasq.output()))
      problems.push(`dnsmasq did not read the reservation file of ${node.hostname}`);
  }
  for (const m of pair.dnsmasq.output().matchAll(/^.*at line \d+ of .*$/gm)) problems.push(`dnsmasq: ${m[0]}`);
  const net = tree.input.network as { cidr: string; gateway: string; dns: string[]; dhcp_range: string };
  const fwArch = tree.manifest.boot.firmware === 'uefi' ? 7 : 0;
  const entry = tree.manifest.boot.entry_url;
  const boot = tree.input.boot as { uefi_loader?: string };
  const uefiLoader = boot.uefi_loader ?? BUILTIN_DEFAULTS.boot.uefiLoader;
  const common = (who: string, l: { router: string; dns: string }): void => {
    if (l.router.split(' ')[0] !== net.gateway) problems.push(`${who}: router "${l.router}", expected ${net.gateway}`);
    if (l.dns.split(' ').join(',') !== net.dns.join(',')) problems.push(`${who}: dns "${l.dns}", expected ${net.dns.join(' ')}`);
  };
  for (const node of tree.manifest.nodes) {
    for (const mac of node.macs) {
      const l = await pair.query(mac, { userClass: 'iPXE', arch: fwArch });
      problems.push(...nodeLeaseProblems(tree, node, mac, l, pair));
    }
  }
  // vip_mode: dhcp: the installer leases the VIP with vip_hw_addr (a macvlan, no iPXE); it must get the VIP.
  const cluster = tree.input.cluster as { vip: string; vip_mode?: string; vip_hw_addr?: string };
  if (cluster.vip_mode === 'dhcp' && cluster.vip_hw_addr) {
    const hw = cluster.vip_hw_addr.toLowerCase();
    const l = await pair.query(hw, {});
    if (!l) problems.push(`VIP MAC ${hw}: no lease\n${pair.lastLog()}`);
    else if (l.ip !== cluster.vip) problems.push(`VIP MAC ${hw}: got ${l.ip}, expected the VIP ${cluster.vip}`);
  }
  // Firmware PXE (no iPXE user class) must get iPXE itself, over TFTP, for both architectures.
  const first = tree.manifest.nodes[0];
  if (first) {
    for (const [arch, want] of [
      [0, 'undionly.kpxe'],
      [7, uefiLoader],
      [9, uefiLoader],
    ] as const) {
      const who = `${first.hostname} ${first.macs[0]} as firmware PXE (arch ${arch})`;
      const l = await pair.query(first.macs[0]!, { arch });
      if (!l) {
        problems.push(`${who}: no lease\n${pair.lastLog()}`);
        continue;
      }
      if (l.boot_file !== want) {
        problems.push(`${who}: boot file "${l.boot_file}", expected ${want}`);
        continue;
      }
      if (arch === 9) continue; // same file as arch 7; one download per file is enough
      const got = await pair.tftpGet(l.boot_file);
      const expected = await readFile(path.join(IPXE_DIR, want));
      if (typeof got === 'string')
        problems.push(`${who}: TFTP download of ${l.boot_file} from ${l.siaddr || pair.serverAddress} failed\n${got}`);
      else if (!got.equals(expected)) problems.push(`${who}: TFTP served a different ${want}`);
    }
  }
  // A MAC the inventory does not have: a pool address and boot.ipxe (whose fallback is unknown.ipxe).
  const l = await pair.query(UNKNOWN_MAC, { userClass: 'iPXE', arch: fwArch });
  if (!l) problems.push(`unknown MAC ${UNKNOWN_MAC}: no lease\n${pair.lastLog()}`);
  else {
    const [lo = '', hi = ''] = net.dhcp_range.split('-');
    const n = ipNum(l.ip);
    if (n < ipNum(lo) || n > ipNum(hi)) problems.push(`unknown MAC: got ${l.ip}, outside dhcp_range ${net.dhcp_range}`);
    if (l.boot_file !== entry) problems.push(`unknown MAC: boot file "${l.boot_file}", expected ${entry}`);
    common('unknown MAC', l);
  }
  return problems;
}

/** The four real runs start together on first use: each spends most of its time waiting (ping check). */
let runs: Map<SiteKey, Promise<{ problems: string[]; log: string }>> | undefined;
async function dhcpRun(key: SiteKey): Promise<{ tree: SiteTree; problems: string[]; log: string }> {
  const trees = await getTrees();
  runs ??= new Map(
    SITES.map((k) => {
      const t = trees[k];
      const p = withDhcpPair(t, async (pair) => ({ problems: await dhcpProblems(t, pair), log: pair.dnsmasq.output() }));
      p.catch(() => undefined); // awaited (and reported) by its own test
      return [k, p] as const;
    }),
  );
  return { tree: trees[key], ...(await runs.get(key)!) };
}

for (const key of SITES) {
  test(`dnsmasq runs the generated config of ${key}: reservations, boot files by client type, TFTP, pool for unknown MACs`, async () => {
    if (!requireProgram('dnsmasq', 'busybox', 'ip', '/usr/lib/ipxe/undionly.kpxe', '/usr/lib/ipxe/ipxe.efi') || !requireRoot()) return;
    const { tree, problems, log } = await dhcpRun(key);
    assert.equal(
      problems,
      [],
      `${tree.label}: dnsmasq answered wrongly:\n  ${problems.join('\n  ')}\n--- dnsmasq log (tail) ---\n${log.split('\n').slice(-60).join('\n')}`,
    );
  });
}

// --- mutations ---------------------------------------------------------------------------

/** Apply `edit` to a copy of one of location_x's dnsmasq files (default harvgen.conf); return the copy's path. */
async function mutated(
  label: string,
  edit: (conf: string) => string,
  which = 'dnsmasq/harvgen.conf',
): Promise<{ file: string; tree: SiteTree }> {
  const tree = await copyTree((await getTrees()).location_x, label);
  const file = path.join(tree.dir, which);
  const before = await readFile(file, 'utf8');
  const after = edit(before);
  assert.ok(after !== before, `mutation "${label}" did not change the file`);
  await writeFile(file, after);
  return { file, tree };
}

const BROKEN_LINES: [string, (c: string) => string][] = [
  ['a misspelt key', (c) => c.replace(/^dhcp-boot=/m, 'dhcp-bootx=')],
  ['dhcp-boot without a file', (c) => c.replace(/^(dhcp-boot=.*tag:ipxe),.*$/m, '$1')],
  ['a range end in another subnet', (c) => c.replace(/^(dhcp-range=.*?,192\.168\.122\.\d+,)192\.168\.122\./m, '$1192.168.123.')],
];

for (const [label, edit] of BROKEN_LINES) {
  test(`mutation: dnsmasq --test rejects the config with ${label}`, async () => {
    if (!requireProgram('dnsmasq')) return;
    const { file } = await mutated(label.replace(/\W+/g, '-'), edit);
    const r = await dnsmasqTest(file);
    assert.ok(r.code !== 0, `dnsmasq --test accepted a config with ${label}:\n${describe(r)}\n${await readFile(file, 'utf8')}`);
  });
}

for (const [label, edit, caught] of [
  // dnsmasq parses "192.168.122.300" as a host name (documented in real-programs.md §2).
  [
    'an impossible IP',
    (c: string) => c.replace(/^(52:54:00:aa:bb:01,)192\.168\.122\.11,/m, '$1192.168.122.300,'),
    /got .*expected its reservation 192\.168\.122\.11/,
  ],
  ['a bad MAC', (c: string) => c.replace(/^52:54:00:aa:bb:01,/m, '52:54:00:aa:bb:ZZ,'), /dnsmasq: .*bad hex constant at line 2/],
] as const) {
  test(`mutation: a reservation file with ${label} passes --test but the real run catches it`, async () => {
    if (!requireProgram('dnsmasq', 'busybox', 'ip') || !requireRoot()) return;
    const { tree } = await mutated(label.replace(/\W+/g, '-'), edit, 'dnsmasq/hosts/location_x.hv-1');
    const syntax = await dnsmasqTestTree(tree.dir, tempDir('dnsmasq-test'));
    assert.is(syntax.code, 0, `expected --test to miss this (it does not read dhcp-hostsdir):\n${describe(syntax)}`);
    const problems = await withDhcpPair(tree, (pair) => dhcpProblems(tree, pair));
    assert.ok(
      problems.some((p) => caught.test(p)),
      `the real DHCP run did not catch ${label}:\n${problems.join('\n')}`,
    );
  });
}

test.run();
